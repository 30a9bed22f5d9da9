"""The week view and the private iCalendar feed: secret URL, revocable, initials only."""

from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from iop.audit.models import AuditEntry
from scheduling.models import SessionType
from scheduling.services import appointments
from scheduling.services import feeds as services


def book(clinic):
    start = datetime.combine(
        timezone.localdate() + timedelta(days=1), time(15), tzinfo=clinic.site_a.timezone
    )
    appointments.book_appointment(
        actor=clinic.case_manager,
        episode=clinic.episode,
        session_type=SessionType.objects.get(name="Individual counselling"),
        staff=clinic.clinician_on_team,
        starts_at=start,
    )


def test_the_feed_lists_sessions_and_appointments_with_initials_only(clinic, morning, client):
    book(clinic)
    token = services.new_feed_link(actor=clinic.clinician_on_team)
    response = client.get(reverse("scheduling:calendar_feed", args=[token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    summaries = [str(event["summary"]) for event in calendar.walk("VEVENT")]
    assert "Individual counselling: T.M." in summaries
    assert summaries.count("Phase 1 morning") >= 14
    assert b"McTestface" not in response.content and b"Testy" not in response.content
    assert AuditEntry.objects.filter(object_type="scheduling.calendarfeed", action="read").exists()


def test_a_new_link_revokes_the_old_and_revoking_stops_it(clinic, client):
    old = services.new_feed_link(actor=clinic.clinician_on_team)
    new = services.new_feed_link(actor=clinic.clinician_on_team)
    assert client.get(reverse("scheduling:calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("scheduling:calendar_feed", args=[new])).status_code == 200
    services.revoke_feed(actor=clinic.clinician_on_team)
    assert client.get(reverse("scheduling:calendar_feed", args=[new])).status_code == 404
    assert client.get(reverse("scheduling:calendar_feed", args=["guess"])).status_code == 404


def test_the_week_page_shows_the_week_and_makes_a_link_once(clinic, morning, login):
    book(clinic)
    client = login(clinic.clinician_on_team)
    page = client.get(reverse("scheduling:my_calendar")).content.decode()
    assert page.count('data-testid="calendar-entry"') >= 7
    assert "T.M." in page and "McTestface" not in page
    made = client.post(reverse("scheduling:my_calendar"), {"action": "new"}).content.decode()
    assert 'data-testid="feed-url"' in made
    again = client.get(reverse("scheduling:my_calendar")).content.decode()
    assert 'data-testid="feed-url"' not in again and 'data-testid="revoke-feed"' in again


def test_site_room_and_staff_calendars_by_week_and_day(clinic, morning, room, login):
    book(clinic)
    client = login(clinic.case_manager)
    url = reverse("scheduling:calendar")
    site_week = client.get(url).content.decode()  # default: the first of the user's sites
    assert site_week.count('data-testid="calendar-entry"') >= 8 and "T.M." in site_week
    assert "McTestface" not in site_week
    by_room = client.get(url, {"room": str(room.public_id)}).content.decode()
    assert "Individual counselling" not in by_room and "Phase 1 morning" in by_room
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    day = client.get(
        url, {"staff": str(clinic.clinician_on_team.public_id), "day": tomorrow}
    ).content.decode()
    assert day.count('data-testid="calendar-entry"') == 2  # the morning group and the appointment
    assert login(clinic.admin_other_site).get(url, {"room": str(room.public_id)}).status_code == 404
    assert client.get(url, {"room": "not-a-uuid"}).status_code == 404
