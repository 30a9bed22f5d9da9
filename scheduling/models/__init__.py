"""The scheduling app's tables, one module per area; import them from here.

docs/decisions/0010-scheduling.md explains the choices (local times and rules in the site's
time zone, occurrences materialised ahead, rolling enrolment, attendance in minutes).
"""

from scheduling.models.attendance import (
    Attendance,
    AttendancePolicy,
    AttendanceStatus,
    Reminder,
    ReminderChannel,
    ReminderKind,
    ReminderOptOut,
    ReminderStatus,
)
from scheduling.models.catalogue import CurriculumTopic, Room, SessionKind, SessionType, TopicCycle
from scheduling.models.feeds import CalendarFeed
from scheduling.models.sessions import (
    Appointment,
    AppointmentStatus,
    Enrolment,
    GroupSeries,
    Occurrence,
    OccurrenceStatus,
)

__all__ = [
    "Appointment",
    "AppointmentStatus",
    "Attendance",
    "CalendarFeed",
    "AttendancePolicy",
    "AttendanceStatus",
    "CurriculumTopic",
    "Enrolment",
    "GroupSeries",
    "Occurrence",
    "OccurrenceStatus",
    "Reminder",
    "ReminderChannel",
    "ReminderKind",
    "ReminderOptOut",
    "ReminderStatus",
    "Room",
    "SessionKind",
    "SessionType",
    "TopicCycle",
]
