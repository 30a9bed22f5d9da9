"""Curriculum groups: modules attended and missed, make-up before the phase ends; absences left."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from scheduling import selectors
from scheduling.models import Attendance, CurriculumTopic, Enrolment, Occurrence, TopicCycle
from scheduling.services import attendance as attendance_services
from scheduling.services import series as series_services
from scheduling.tests.factories import SeriesFactory

TODAY = timezone.localdate


def make_course(clinic, room):
    cycle = TopicCycle.objects.create(name="Relapse prevention modules")
    for position, title in enumerate(["Triggers", "Cravings", "Refusal skills"]):
        CurriculumTopic.objects.create(cycle=cycle, position=position, title=title)
    series = SeriesFactory(
        site=clinic.site_a,
        name="RP course",
        room=room,
        facilitator=clinic.clinician_on_team,
        recurrence_rule="FREQ=DAILY",
        topic_cycle=cycle,
        starts_on=TODAY() - timedelta(days=9),
    )
    series_services.generate_occurrences(series=series, ahead_weeks=2, since=series.starts_on)
    Enrolment.objects.create(series=series, episode=clinic.episode, joined_on=series.starts_on)
    return series


def test_a_missed_module_is_flagged_with_its_make_up_session(clinic, room, login):
    series = make_course(clinic, room)
    past = Occurrence.objects.filter(series=series, local_date__lt=TODAY())
    for occurrence in past:
        status = "absent" if occurrence.topic_index == 2 else "present"
        attendance_services.record_attendance(
            actor=clinic.clinician_on_team, occurrence=occurrence, episode=clinic.episode, status=status
        )
    [course] = selectors.curriculum_progress(clinic.episode)
    by_title = {topic.title: topic for topic in course.topics}
    assert by_title["Triggers"].status == by_title["Cravings"].status == "attended"
    refusal = by_title["Refusal skills"]
    assert refusal.status == "missed"
    next_refusal = (
        Occurrence.objects.filter(series=series, topic_index=2, local_date__gte=TODAY())
        .order_by("starts_at")
        .first()
    )
    assert refusal.make_up_on == next_refusal.local_date
    assert refusal.make_up_before_phase_end  # Phase 1 lasts at least 4 weeks from admission
    page = login(clinic.case_manager).get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "schedule"])
    )
    assert "1 to make up" in page.content.decode()


def test_attending_the_make_up_clears_the_flag(clinic, room):
    series = make_course(clinic, room)
    yesterday = Occurrence.objects.get(series=series, local_date=TODAY() - timedelta(days=1))
    earlier = Occurrence.objects.filter(
        series=series, topic_index=yesterday.topic_index, local_date__lt=yesterday.local_date
    )
    for occurrence in earlier:
        attendance_services.record_attendance(
            actor=clinic.clinician_on_team, occurrence=occurrence, episode=clinic.episode, status="excused"
        )
    topic = selectors.curriculum_progress(clinic.episode)[0].topics[yesterday.topic_index]
    assert topic.status == "missed"
    attendance_services.record_attendance(
        actor=clinic.clinician_on_team,
        occurrence=yesterday,
        episode=clinic.episode,
        status="late",
        minutes_attended=100,
    )
    assert selectors.curriculum_progress(clinic.episode)[0].topics[yesterday.topic_index].status == "attended"


def test_remaining_unexcused_absences_follow_the_policy(clinic, morning):
    Enrolment.objects.create(series=morning, episode=clinic.episode, joined_on=TODAY() - timedelta(days=20))
    for occurrence in Occurrence.objects.filter(series=morning, local_date__lt=TODAY()).order_by(
        "-starts_at"
    )[:4]:
        status = "absent" if occurrence.local_date.day % 2 else "excused"
        Attendance.objects.create(
            occurrence=occurrence,
            episode=clinic.episode,
            status=status,
            minutes_attended=0,
            session_minutes=180,
            local_date=occurrence.local_date,
            recorded_by=clinic.clinician_on_team,
        )
    allowance = selectors.absence_allowance(clinic.episode)
    absent = Attendance.objects.filter(status="absent").count()
    assert (allowance.unexcused, allowance.allowed, allowance.remaining) == (absent, 6, 6 - absent)
