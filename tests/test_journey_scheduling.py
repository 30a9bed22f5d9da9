"""Scheduling journeys in a real browser (issue 8):

1. a case manager builds the week of a new Phase 1 patient who works 14:00-22:00: the builder
   proposes the morning track, and saving it enrols them;
2. a clinician takes attendance for a group of 12: one click for everyone present, then the
   exceptions row by row (htmx, no page reload).

Both count the clicks (reported in the issue's closing note).
"""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from iop.accounts.tests.factories import TEST_PASSWORD
from patients.models import AvailabilityWindow, CareTeamRole, Phase
from patients.tests.factories import PatientFactory, admit
from scheduling.models import Attendance, Enrolment
from scheduling.services import series as series_services
from scheduling.tests.factories import RoomFactory, SeriesFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Clicks:
    def __init__(self, page, base_url):
        self.count = 0
        self.problems = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("response", lambda r: r.status >= 500 and self.problems.append(f"{r.status} {r.url}"))
        page.on("request", lambda r: not r.url.startswith(base_url) and self.problems.append(r.url))

    def click(self, locator):
        self.count += 1
        locator.click()


def sign_in(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("home-heading")).to_be_visible()


@pytest.fixture
def site_schedule(clinic):
    phase_1 = Phase.objects.filter(order=1)
    start = timezone.localdate() - timedelta(days=14)
    morning = SeriesFactory(
        site=clinic.site_a,
        name="Phase 1 morning",
        room=RoomFactory(site=clinic.site_a, name="Room A"),
        facilitator=clinic.supervisor,
        start_time=time(9),
        duration_minutes=180,
        starts_on=start,
    )
    evening = SeriesFactory(
        site=clinic.site_a,
        name="Phase 1 evening",
        room=RoomFactory(site=clinic.site_a, name="Room B"),
        facilitator=clinic.supervisor,
        start_time=time(18),
        duration_minutes=180,
        starts_on=start,
    )
    morning.phases.set(phase_1)
    evening.phases.set(phase_1)
    daily = SeriesFactory(
        site=clinic.site_a,
        name="Relapse prevention",
        room=RoomFactory(site=clinic.site_a, name="Room C"),
        facilitator=clinic.clinician_on_team,
        recurrence_rule="FREQ=DAILY",
        start_time=time(6),
        duration_minutes=120,
        starts_on=start,
        capacity=12,
    )
    for series in (morning, evening, daily):
        series_services.generate_occurrences(series=series, ahead_weeks=2, since=start)
    return morning, evening, daily


def test_a_case_manager_builds_the_week_of_a_new_phase_1_patient_who_works_evenings(
    clinic, site_schedule, live_server, journey_page
):
    for weekday in range(1, 6):
        AvailabilityWindow.objects.create(
            patient=clinic.patient, kind="work", weekday=weekday, starts_at=time(14), ends_at=time(22)
        )
    page = journey_page
    sign_in(page, live_server.url, clinic.case_manager)
    clicks = Clicks(page, live_server.url)
    card = page.get_by_test_id("scheduling")
    expect(card.get_by_test_id("scheduling-row").first).to_contain_text(clinic.patient.display_name)
    clicks.click(card.get_by_role("link", name=clinic.patient.display_name))
    clicks.click(page.get_by_test_id("build-week"))
    expect(page.get_by_test_id("builder-meets")).to_be_visible()
    expect(page.get_by_test_id("builder-proposed")).to_contain_text("Phase 1 morning")
    clicks.click(page.get_by_test_id("builder-accept"))
    expect(page.get_by_test_id("enrolments")).to_contain_text("Phase 1 morning")
    expect(page.get_by_test_id("weekly-hours")).to_be_visible()
    assert list(Enrolment.objects.filter(episode=clinic.episode).values_list("series__name", flat=True)) == [
        "Phase 1 morning"
    ]
    assert not clicks.problems, clicks.problems
    print(f"\nBUILD A WEEK: {clicks.count} clicks from the case manager's home")
    assert clicks.count == 3


def test_a_clinician_takes_attendance_for_a_group_of_12(clinic, site_schedule, live_server, journey_page):
    _morning, _evening, daily = site_schedule
    episodes = [clinic.episode] + [
        admit(PatientFactory(site=clinic.site_a), team={CareTeamRole.PRIMARY_CLINICIAN: clinic.supervisor})
        for _ in range(11)
    ]
    for episode in episodes:
        Enrolment.objects.create(
            series=daily, episode=episode, joined_on=timezone.localdate() - timedelta(days=7)
        )
    page = journey_page
    sign_in(page, live_server.url, clinic.clinician_on_team)
    clicks = Clicks(page, live_server.url)
    clicks.click(page.get_by_test_id("todays-session").first)
    expect(page.get_by_test_id("roster-row")).to_have_count(12)
    clicks.click(page.get_by_test_id("all-present"))
    expect(page.get_by_test_id("recorded-count")).to_have_text("12")
    all_present = clicks.count
    # Two exceptions: one absent, one late by 30 minutes (select, minutes, save: one row each).
    rows = page.get_by_test_id("roster-row")
    first = rows.nth(2)
    first.get_by_test_id("roster-status").select_option("absent")
    first.get_by_test_id("roster-minutes").fill("0")
    clicks.click(first.get_by_test_id("roster-save"))
    expect(rows.nth(2).get_by_test_id("roster-saved")).to_contain_text("Absent, 0 min")
    second = rows.nth(5)
    second.get_by_test_id("roster-status").select_option("late")
    second.get_by_test_id("roster-minutes").fill("90")
    clicks.click(second.get_by_test_id("roster-save"))
    expect(rows.nth(5).get_by_test_id("roster-saved")).to_contain_text("Late, 90 min")
    statuses = sorted(Attendance.objects.values_list("status", flat=True))
    assert statuses.count("present") == 10 and "absent" in statuses and "late" in statuses
    assert not clicks.problems, clicks.problems
    print(
        f"\nATTENDANCE FOR 12: {all_present} clicks for everyone present, "
        f"then 1 save per exception ({clicks.count} in all)"
    )
    assert all_present == 2


def test_scheduling_pages_have_no_serious_accessibility_violations(
    clinic, site_schedule, live_server, journey_page
):
    from django.urls import reverse

    from scheduling.models import Occurrence
    from tests.test_accessibility import serious_violations

    _morning, _evening, daily = site_schedule
    Enrolment.objects.create(
        series=daily, episode=clinic.episode, joined_on=timezone.localdate() - timedelta(days=7)
    )
    today = Occurrence.objects.get(series=daily, local_date=timezone.localdate())
    found = {}
    for user, paths in (
        (
            clinic.clinician_on_team,
            [
                "/",
                reverse("scheduling:series_list"),
                reverse("scheduling:roster", args=[today.public_id]),
                reverse("scheduling:series_detail", args=[daily.public_id]),
                reverse("scheduling:series_create"),
                reverse("scheduling:my_calendar"),
                reverse("scheduling:calendar"),
            ],
        ),
        (
            clinic.case_manager,
            [
                "/",
                reverse("patients:chart_tab", args=[clinic.patient.public_id, "schedule"]),
                reverse("scheduling:build_week", args=[clinic.patient.public_id]),
            ],
        ),
        (clinic.admin, [reverse("scheduling:rooms")]),
    ):
        journey_page.context.clear_cookies()
        sign_in(journey_page, live_server.url, user)
        for path in paths:
            journey_page.goto(live_server.url + path)
            violations = serious_violations(journey_page)
            if violations:
                found[path] = violations
    assert not found, found
