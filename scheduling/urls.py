"""Scheduling pages, mounted at the site root before `patients.urls` (the chart's Schedule tab
lives under /patients/<id>/schedule/ and must win over the chart's generic tab route)."""

from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("schedule/", views.series_list, name="series_list"),
    path("schedule/series/new/", views.series_create, name="series_create"),
    path("schedule/series/<uuid:public_id>/", views.series_detail, name="series_detail"),
    path("schedule/sessions/<uuid:public_id>/", views.occurrence_roster, name="roster"),
    path("schedule/sessions/<uuid:public_id>/all-present/", views.mark_all_present, name="mark_all_present"),
    path("schedule/sessions/<uuid:public_id>/cancel/", views.cancel_occurrence, name="cancel_occurrence"),
    path(
        "schedule/sessions/<uuid:public_id>/attendance/<uuid:episode_id>/",
        views.record_attendance,
        name="record_attendance",
    ),
    path("schedule/mine/", views.my_calendar, name="my_calendar"),
    path("schedule/calendar/", views.calendar, name="calendar"),
    path("schedule/feeds/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("schedule/rooms/", views.room_list, name="rooms"),
    path("schedule/rooms/new/", views.room_create, name="room_create"),
    path("schedule/rooms/<uuid:public_id>/", views.room_edit, name="room_edit"),
    path("schedule/session-types/new/", views.session_type_create, name="session_type_create"),
    path("schedule/session-types/<uuid:public_id>/", views.session_type_edit, name="session_type_edit"),
    path("patients/<uuid:public_id>/schedule/", views.chart_schedule, name="chart_schedule"),
    path("patients/<uuid:public_id>/schedule/enrol/", views.enrol, name="enrol"),
    path("patients/<uuid:public_id>/schedule/builder/", views.build_week, name="build_week"),
    path(
        "patients/<uuid:public_id>/schedule/appointments/new/",
        views.book_appointment,
        name="book_appointment",
    ),
    path(
        "patients/<uuid:public_id>/schedule/appointments/<uuid:appointment_id>/attendance/",
        views.appointment_attendance,
        name="appointment_attendance",
    ),
    path(
        "patients/<uuid:public_id>/schedule/reminders/", views.reminder_preference, name="reminder_preference"
    ),
    path(
        "patients/<uuid:public_id>/schedule/enrolments/<uuid:enrolment_id>/leave/", views.leave, name="leave"
    ),
]
