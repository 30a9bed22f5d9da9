"""The demo clinic generator: what it creates, that its logins work, that it is idempotent."""

import re
from collections import Counter
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from iop.accounts.models import Role, Site, User
from iop.audit.models import AuditEntry
from iop.demo.generator import (
    DEMO_LOGINS,
    DEMO_MRN_PREFIX,
    DEMO_PASSWORD,
    DEMO_PROGRAM_NAME,
    DEMO_URL,
    demo_patients,
)
from patients.models import (
    CareTeamMember,
    CareTeamRole,
    ClinicalAlert,
    DischargeReason,
    Episode,
    EpisodeStatus,
    Patient,
    Program,
)
from patients.selectors import active_alerts_for, caseload_for

SMALL = ("--patients", "20", "--sites", "2", "--weeks", "4")
LOGIN_ROW = re.compile(r"^\s+(?P<label>[A-Z][\w ]+?)\s{2,}(?P<username>\w+)\s{2,}(?P<password>\S+)$")


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--allow-without-debug", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def printed_logins(output: str) -> dict[str, str]:
    """username -> password, read from the table the command prints."""
    rows = (LOGIN_ROW.match(line) for line in output.splitlines())
    return {row["username"]: row["password"] for row in rows if row and row["label"] != "Role"}


def row_counts() -> dict[str, int]:
    models = (Site, User, Patient, Episode, CareTeamMember, ClinicalAlert, AuditEntry)
    return {model.__name__: model.objects.count() for model in models}


def snapshot() -> list[tuple]:
    return list(
        demo_patients()
        .order_by("mrn")
        .values_list(
            "mrn",
            "legal_first_name",
            "legal_last_name",
            "date_of_birth",
            "site__name",
            "current_episode__status",
            "current_episode__admitted_on",
            "current_episode__current_phase__order",
            "current_episode__phase_started_on",
            "current_episode__discharged_on",
            "current_episode__discharge_reason",
        )
    )


@pytest.fixture(autouse=True)
def default_program(db) -> None:
    """The program the patients migration seeds. A transactional test elsewhere flushes the
    reused test database, migration data included, so put it back when it is missing."""
    if not Program.objects.filter(name=DEMO_PROGRAM_NAME).exists():
        import_module("patients.migrations.0002_default_program").seed(django_apps, None)


@pytest.fixture
def seeded(db) -> str:
    return seed(*SMALL)


def test_creates_the_sites_with_their_operating_rules(seeded):
    sites = list(Site.objects.all())
    assert [site.name for site in sites] == ["Northside Recovery Center", "Riverside Clinic"]
    for site in sites:
        assert str(site.timezone) == "America/New_York"
        assert site.operating_days == [1, 2, 3, 4, 5]
        assert site.daily_draw_time.strftime("%H:%M") == "05:30"


def test_every_printed_login_authenticates_with_the_printed_password(seeded):
    logins = printed_logins(seeded)
    assert set(logins) == {login.username for login in DEMO_LOGINS}
    assert DEMO_URL in seeded
    for username, password in logins.items():
        user = authenticate(RequestFactory().post("/"), username=username, password=password)
        assert user is not None, username
        validate_password(password, user)  # the demo password passes the project's validators


def test_demo_logins_have_their_roles_and_sites(seeded):
    first_site, second_site = Site.objects.order_by("name")
    expected = {
        "clinician": (Role.CLINICIAN, False),
        "supervisor": (Role.CLINICIAN, True),
        "casemanager": (Role.CASE_MANAGER, False),
        "medical": (Role.MEDICAL, False),
        "peersupport": (Role.PEER_SUPPORT, False),
        "admin": (Role.ADMIN, False),
    }
    for username, (role, supervisor) in expected.items():
        user = User.objects.get(username=username)
        assert (user.role, user.is_clinical_supervisor) == (role, supervisor)
        sites = set(user.sites.all())
        assert sites == ({first_site, second_site} if username == "admin" else {first_site})


def test_every_site_has_staff_in_every_role(seeded):
    for site in Site.objects.all():
        staff = site.staff.exclude(role=Role.ADMIN)
        by_role = Counter(staff.values_list("role", flat=True))
        assert by_role[Role.CLINICIAN] >= 3
        assert by_role[Role.CASE_MANAGER] >= 2
        assert by_role[Role.MEDICAL] >= 1
        assert by_role[Role.PEER_SUPPORT] >= 1
        assert staff.filter(is_clinical_supervisor=True).count() == 1
        assert all(user.email.endswith("@example.test") for user in staff)
    assert User.objects.filter(role=Role.ADMIN).count() == 1


def test_patients_are_obviously_demo_and_spread_over_sites(seeded):
    patients = Patient.objects.all()
    assert patients.count() == 20
    assert all(patient.mrn.startswith(DEMO_MRN_PREFIX) for patient in patients)
    assert Counter(patients.values_list("site__name", flat=True)) == {
        "Northside Recovery Center": 10,
        "Riverside Clinic": 10,
    }


def test_patients_are_on_every_step_of_the_path(seeded):
    pre_admission = Patient.objects.filter(current_episode__isnull=True)
    assert pre_admission.exists()
    assert not Episode.objects.filter(patient__in=pre_admission).exists()
    active = Episode.objects.filter(status=EpisodeStatus.ACTIVE)
    assert set(active.values_list("current_phase__order", flat=True)) == {1, 2}
    assert Episode.objects.filter(status=EpisodeStatus.DISCHARGED).exists()
    # Every admitted patient's current episode is their (only) episode, active or discharged.
    for patient in Patient.objects.filter(current_episode__isnull=False).select_related("current_episode"):
        assert patient.current_episode.patient_id == patient.pk
        assert patient.current_episode.site_id == patient.site_id


def assert_episode_dates_follow_the_program(weeks: int) -> None:
    today = timezone.localdate()
    for episode in Episode.objects.select_related("current_phase"):
        assert episode.admitted_on <= today
        assert episode.admitted_on.isoweekday() <= 5
        assert episode.admitted_on <= episode.phase_started_on <= today
        if episode.current_phase.order == 1:
            assert episode.phase_started_on == episode.admitted_on
        else:
            assert episode.phase_started_on - episode.admitted_on >= timedelta(weeks=4)
            assert episode.phase_started_on.isoweekday() <= 5
        if episode.status == EpisodeStatus.ACTIVE:
            assert episode.discharged_on is None and episode.discharge_reason == ""
            latest_admission = timedelta(weeks=weeks if episode.current_phase.order == 1 else weeks + 10)
            assert today - episode.admitted_on <= latest_admission + timedelta(days=2)  # to a weekday
        else:
            assert episode.discharge_reason in DischargeReason.values
            assert episode.phase_started_on <= episode.discharged_on <= today
            assert episode.discharged_on.isoweekday() <= 5


def test_episode_dates_follow_the_program(seeded):
    assert_episode_dates_follow_the_program(weeks=4)


def test_every_episode_has_a_full_care_team_from_its_site(seeded):
    for episode in Episode.objects.prefetch_related("care_team__user__sites"):
        team = {member.role: member.user for member in episode.care_team.all()}
        assert set(team) == {
            CareTeamRole.PRIMARY_CLINICIAN,
            CareTeamRole.CASE_MANAGER,
            CareTeamRole.MEDICAL,
            CareTeamRole.PEER_SUPPORT,
        }
        assert all(episode.site in user.sites.all() for user in team.values())
        assert all(member.assigned_on == episode.admitted_on for member in episode.care_team.all())


@pytest.mark.parametrize("username", ["clinician", "casemanager", "medical", "peersupport"])
def test_demo_logins_have_a_caseload(seeded, username):
    assert caseload_for(User.objects.get(username=username)).count() >= 2


def test_the_demo_clinician_has_unresolved_safety_alerts(seeded):
    clinician = User.objects.get(username="clinician")
    alerts = list(active_alerts_for(clinician))
    assert alerts
    caseload = set(caseload_for(clinician))
    for alert in alerts:
        assert (alert.kind, alert.severity, alert.resolved_at) == ("safety", "high", None)
        assert "C-SSRS" in alert.message
        assert alert.patient in caseload


def test_seeding_is_recorded_as_one_audit_event(seeded):
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.actor_username) == ("create", "demo.seed", "system")
    assert "20 patients" in entry.reason


def test_a_second_run_creates_nothing_and_prints_the_logins_again(seeded):
    before = row_counts()
    output = seed(*SMALL)
    assert row_counts() == before
    assert "already exists" in output
    assert printed_logins(output) == printed_logins(seeded)


def test_a_bigger_run_adds_only_the_missing_patients(seeded):
    first_twenty = snapshot()
    seed("--patients", "30", "--sites", "2", "--weeks", "4")
    assert Patient.objects.count() == 30
    assert snapshot()[:20] == first_twenty
    assert AuditEntry.objects.filter(object_type="demo.seed").count() == 2


def test_the_same_options_give_the_same_clinic():
    with transaction.atomic():
        seed(*SMALL)
        first = snapshot()
        transaction.set_rollback(True)
    assert not Patient.objects.exists()
    seed(*SMALL)
    assert snapshot() == first


def test_a_larger_clinic_scales_its_staff_and_shares_patients_evenly():
    seed("--patients", "400", "--sites", "2", "--weeks", "12")
    assert_episode_dates_follow_the_program(weeks=12)
    assert len(set(Episode.objects.values_list("discharge_reason", flat=True))) >= 4
    for site in Site.objects.all():
        clinicians = site.staff.filter(role=Role.CLINICIAN)
        assert clinicians.count() == 7  # 160 active patients at 25 each
        treated = Counter(
            CareTeamMember.objects.filter(
                role=CareTeamRole.PRIMARY_CLINICIAN, episode__site=site
            ).values_list("user__username", flat=True)
        )
        assert len(treated) == 7 and max(treated.values()) - min(treated.values()) <= 1
        assert all(15 <= caseload_for(user).count() <= 30 for user in clinicians)


@pytest.mark.parametrize("args", [("--sites", "0"), ("--weeks", "0"), ("--patients", "-1")])
def test_rejects_impossible_options(args):
    with pytest.raises(CommandError):
        seed(*args)


def test_the_demo_password_is_printed_once_per_login(seeded):
    assert seeded.count(DEMO_PASSWORD) == len(DEMO_LOGINS)


def test_explains_a_missing_default_program():
    Program.objects.filter(name="Adult SUD IOP").update(name="Renamed program")
    with pytest.raises(CommandError, match="migrate"):
        seed(*SMALL)


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published"):
        call_command("seed_demo", "--patients", "1", "--no-progress", stdout=StringIO(), stderr=StringIO())
