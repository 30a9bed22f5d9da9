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
from django.urls import reverse
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
    seed_demo_clinic,
)
from patients.asam_rule import recommend_level
from patients.instruments import AUDIT, DAST_10, FLAG_SUICIDE_RISK, GAD_7, PHQ_9, get_definition, score
from patients.models import (
    AsamAssessment,
    AvailabilityWindow,
    CareTeamMember,
    CareTeamRole,
    ClinicalAlert,
    Consent,
    ConsentKind,
    DischargeReason,
    EligibilityReview,
    Episode,
    EpisodeStatus,
    InstrumentResponse,
    Medication,
    MedicationClass,
    Patient,
    Program,
    Referral,
    ReferralOutcome,
    ReferralStatus,
)
from patients.selectors import active_alerts_for, caseload_for
from patients.selectors.consents import has_active_treatment_consent
from patients.selectors.intake import admission_readiness, intake_queue
from patients.services.consents import part2_consent_text, treatment_consent_text

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


INTAKE_MODELS = (
    Referral,
    EligibilityReview,
    Consent,
    InstrumentResponse,
    AsamAssessment,
    AvailabilityWindow,
    Medication,
)


def row_counts() -> dict[str, int]:
    models = (Site, User, Patient, Episode, CareTeamMember, ClinicalAlert, AuditEntry, *INTAKE_MODELS)
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


def intake_snapshot() -> list[tuple]:
    """Everything the intake parts made, with its times."""
    return [
        *Referral.objects.order_by("patient__mrn").values_list(
            "patient__mrn",
            "source",
            "source_detail",
            "referrer_name",
            "reason",
            "urgency",
            "status",
            "intake_clinician__username",
            "referred_at",
            "screened_at",
            "admitted_at",
        ),
        *Consent.objects.order_by("patient__mrn", "signed_at").values_list(
            "patient__mrn", "kind", "recipient", "expires_on", "text_presented", "signed_at"
        ),
        *InstrumentResponse.objects.order_by(
            "patient__mrn", "administered_at", "instrument_code"
        ).values_list("patient__mrn", "instrument_code", "answers", "total", "band", "administered_at"),
        *AsamAssessment.objects.order_by("patient__mrn").values_list(
            "patient__mrn", "ratings", "assessed_at"
        ),
        *AvailabilityWindow.objects.order_by("patient__mrn", "weekday").values_list(
            "patient__mrn", "kind", "weekday", "starts_at", "ends_at"
        ),
        *Medication.objects.order_by("patient__mrn").values_list(
            "patient__mrn", "name", "dose", "started_on"
        ),
    ]


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
    # (drug-test review alerts from the last week's draws come and go with the day's selections)
    alerts = [alert for alert in active_alerts_for(clinician) if alert.kind != "drug_test"]
    assert alerts
    caseload = set(caseload_for(clinician))
    for alert in alerts:
        # What administer_instrument raises for a positive PHQ-9 item 9 ...
        assert (alert.kind, alert.severity, alert.resolved_at) == (FLAG_SUICIDE_RISK, "high", None)
        assert "C-SSRS" in alert.message
        assert alert.patient in caseload
        # ... and the PHQ-9 that raised it is on the chart, the patient's latest.
        latest = InstrumentResponse.objects.filter(patient=alert.patient, instrument_code=PHQ_9).first()
        assert latest.answers["9"] > 0 and FLAG_SUICIDE_RISK in latest.flags
        assert latest.administered_by == clinician


# --- intake: referrals, consents, screening, availability, medications ---------------------------


def test_pre_admission_patients_wait_in_the_intake_queue_with_an_open_referral(seeded):
    now = timezone.now()
    waiting = Patient.objects.filter(current_episode__isnull=True)
    assert waiting.exists()
    for patient in waiting:
        (referral,) = patient.referrals.all()
        assert (referral.status, referral.outcome, referral.admitted_at) == (ReferralStatus.OPEN, "", None)
        assert referral.site_id == patient.site_id
        assert timedelta(hours=1) <= now - referral.referred_at <= timedelta(days=6, minutes=5)
        assert referral.reason and referral.created_by.role == Role.CASE_MANAGER
        results = list(patient.instrument_responses.order_by("administered_at"))
        if referral.screened_at is None:
            assert not results
        else:  # screened: a PHQ-9 and an AUDIT, the first one at screened_at
            assert [result.instrument_code for result in results] == [PHQ_9, AUDIT]
            assert results[0].administered_at == referral.screened_at
            assert all(result.referral_id == referral.pk for result in results)
            assert referral.referred_at < referral.screened_at and results[-1].administered_at <= now
        if referral.eligibility_reviews.exists():
            assert referral.screened_at is not None
    clinician = User.objects.get(username="clinician")
    queue = list(intake_queue(clinician))
    first_site = Site.objects.get(name="Northside Recovery Center")
    assert {referral.patient for referral in queue} == set(waiting.filter(site=first_site))
    assert [referral.referred_at for referral in queue] == sorted(referral.referred_at for referral in queue)


def test_some_open_referrals_are_the_demo_clinicians_and_some_are_screened():
    seed("--patients", "200", "--sites", "2", "--weeks", "8")
    open_referrals = Referral.objects.filter(status=ReferralStatus.OPEN)
    assert open_referrals.count() == 20
    assert open_referrals.filter(intake_clinician__username="clinician").exists()
    assert open_referrals.filter(screened_at__isnull=False).exists()
    assert open_referrals.filter(screened_at__isnull=True).exists()
    assert len(set(open_referrals.values_list("source", flat=True))) >= 3
    assert EligibilityReview.objects.filter(referral__in=open_referrals).exists()


def test_every_admitted_patient_has_a_referral_with_time_to_admission(seeded):
    episodes = Episode.objects.select_related("referral", "site", "patient")
    assert episodes.exists()
    for episode in episodes:
        referral = episode.referral
        assert referral is not None and referral.patient_id == episode.patient_id
        assert (referral.status, referral.outcome) == (ReferralStatus.CLOSED, ReferralOutcome.ADMITTED)
        assert referral.referred_at < referral.screened_at < referral.admitted_at == referral.closed_at
        assert timezone.localtime(referral.admitted_at, episode.site.timezone).date() == episode.admitted_on
        assert timedelta(hours=1) < referral.time_to_admission <= timedelta(days=13)
        primary = episode.care_team.get(role=CareTeamRole.PRIMARY_CLINICIAN).user
        assert referral.intake_clinician == primary
        (review,) = referral.eligibility_reviews.all()
        assert review.criteria_met == len(review.CRITERIA) and review.reviewed_by == primary
        assert referral.screened_at < review.created_at < referral.admitted_at


def test_the_demo_admissions_are_ones_the_service_accepts_without_a_reason(seeded):
    """Consent signed, ASAM 2.1, eligibility met: nothing stood in the way (an open alert
    raised after admission aside)."""
    for episode in Episode.objects.select_related("patient", "referral"):
        readiness = admission_readiness(episode.patient, episode.referral)
        assert readiness.blockers == []
        assert [concern for concern in readiness.concerns if not concern.startswith("Open alert")] == []


def test_every_admitted_patient_signed_a_consent_to_treatment_before_admission(seeded):
    for episode in Episode.objects.select_related("patient__site", "referral"):
        patient = episode.patient
        assert has_active_treatment_consent(patient)
        consent = patient.consents.get(kind=ConsentKind.TREATMENT)
        assert consent.text_presented == treatment_consent_text(patient)
        assert consent.signed_by_name == f"{patient.legal_first_name} {patient.legal_last_name}"
        assert consent.witnessed_by == episode.care_team.get(role=CareTeamRole.PRIMARY_CLINICIAN).user
        assert consent.signed_at < episode.referral.admitted_at
    for consent in Consent.objects.filter(kind=ConsentKind.PART2_DISCLOSURE).select_related("patient__site"):
        assert consent.recipient and consent.purpose and consent.expires_on > consent.signed_at.date()
        terms = {
            "recipient": consent.recipient,
            "purpose": consent.purpose,
            "information_description": consent.information_description,
            "expires_on": consent.expires_on,
            "expiry_event": consent.expiry_event,
        }
        assert consent.text_presented == part2_consent_text(consent.patient, **terms)


def test_stored_instrument_scores_are_what_the_engine_makes_of_the_stored_answers(seeded):
    results = list(InstrumentResponse.objects.all())
    assert {result.instrument_code for result in results} >= {PHQ_9, GAD_7}
    for result in results:
        engine = score(result.instrument_code, result.answers, sex=result.sex_used or None)
        assert (result.total, result.band, result.flags) == (engine.total, engine.band, engine.flags)
        assert result.instrument_version == get_definition(result.instrument_code).version
    for assessment in AsamAssessment.objects.all():
        recommendation = recommend_level(assessment.edition, assessment.ratings)
        assert assessment.recommended_level == recommendation.level == assessment.chosen_level == "2.1"
        assert assessment.recommendation_reasons == recommendation.reasons


def test_admitted_patients_were_screened_at_intake_and_every_four_weeks_since(seeded):
    today = timezone.localdate()
    for episode in Episode.objects.select_related("referral", "patient", "site"):
        referral = episode.referral
        intake = list(
            episode.patient.instrument_responses.filter(referral=referral).order_by("administered_at")
        )
        codes = [result.instrument_code for result in intake]
        assert codes[:2] == [PHQ_9, GAD_7] and codes[2] in (AUDIT, DAST_10) and len(codes) == 3
        assert intake[0].administered_at == referral.screened_at
        assert all(result.administered_at < referral.admitted_at for result in intake)
        (assessment,) = episode.patient.asam_assessments.all()
        assert assessment.referral == referral
        assert referral.screened_at <= assessment.assessed_at < referral.admitted_at
        # Then every four weeks or so (the PHQ-9 behind a safety alert, taken today, aside).
        follow_ups = [
            timezone.localtime(result.administered_at, episode.site.timezone).date()
            for result in episode.patient.instrument_responses.filter(
                referral__isnull=True, instrument_code=PHQ_9
            )
            if FLAG_SUICIDE_RISK not in result.flags
        ]
        last_day = min(episode.discharged_on or today, today - timedelta(days=1))
        assert len(follow_ups) >= (last_day - episode.admitted_on).days // 28 - 1
        assert all(episode.admitted_on < day <= last_day for day in follow_ups)


def test_a_larger_clinic_has_intake_data_in_realistic_shares():
    seed("--patients", "400", "--sites", "2", "--weeks", "12")
    episodes = Episode.objects.count()
    part2 = Consent.objects.filter(kind=ConsentKind.PART2_DISCLOSURE).values("patient").distinct().count()
    assert 0.2 < part2 / episodes < 0.5  # about a third
    with_windows = AvailabilityWindow.objects.values("patient").distinct().count()
    assert 0.6 < with_windows / episodes < 0.95  # most
    for patient_windows in Counter(AvailabilityWindow.objects.values_list("patient", flat=True)).values():
        assert 1 <= patient_windows <= 3
    assert not AvailabilityWindow.objects.filter(weekday__gt=5).exists()
    medications = Medication.objects.count()
    assert 0.08 < medications / episodes < 0.25  # about 15%
    classes = set(Medication.objects.values_list("medication_class", flat=True))
    assert MedicationClass.BUPRENORPHINE in classes and classes <= {
        MedicationClass.BUPRENORPHINE,
        MedicationClass.METHADONE,
        MedicationClass.STIMULANT,
        MedicationClass.BENZODIAZEPINE,
    }
    # Most patients' PHQ-9 falls from intake to the latest result, so the charts show it.
    falling = flat = 0
    for patient in Patient.objects.filter(current_episode__isnull=False):
        totals = list(
            patient.instrument_responses.filter(instrument_code=PHQ_9)
            .order_by("administered_at")
            .values_list("total", flat=True)
        )
        if len(totals) >= 4:
            falling += totals[-1] < totals[0]
            flat += totals[-1] >= totals[0]
    assert falling > 2 * flat
    # DAST-10 where the licence is confirmed (as in the tests), AUDIT for mainly-alcohol patients.
    assert InstrumentResponse.objects.filter(instrument_code=DAST_10).exists()
    assert InstrumentResponse.objects.filter(instrument_code=AUDIT, referral__status="closed").exists()
    # Besides safety alerts, only drug testing's reviews (ADR 0011).
    assert not ClinicalAlert.objects.exclude(kind__in=[FLAG_SUICIDE_RISK, "drug_test"]).exists()


def test_seeding_is_recorded_as_one_audit_event(seeded):
    # The daily draws keep their own entries (key commitments, draws, orders): verification needs them.
    entry = AuditEntry.objects.exclude(object_type__startswith="testing.").get()
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
    assert Referral.objects.count() == 30  # one per patient: the new ones got theirs
    assert Consent.objects.filter(kind=ConsentKind.TREATMENT).count() == Episode.objects.count()
    assert AuditEntry.objects.filter(object_type="demo.seed").count() == 2


def test_the_same_options_give_the_same_clinic():
    now = timezone.now() - timedelta(hours=1)
    with transaction.atomic():
        seed_demo_clinic(patients=20, sites=2, weeks=4, now=now)
        first, first_intake = snapshot(), intake_snapshot()
        transaction.set_rollback(True)
    assert not Patient.objects.exists()
    seed_demo_clinic(patients=20, sites=2, weeks=4, now=now)
    assert snapshot() == first
    assert intake_snapshot() == first_intake


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


@pytest.mark.two_factor_policy
@pytest.mark.parametrize("username", ["admin", "supervisor"])
def test_demo_logins_sign_in_without_a_second_factor(seeded, username, client, settings):
    """The demo's published logins are exempt (README: two-factor sign-in), so `make run` still
    signs in with them where admins and supervisors must otherwise enrol."""
    assert settings.TWO_FACTOR_REQUIRED_FOR == "admins_and_supervisors"
    password = printed_logins(seeded)[username]
    client.post(reverse("login"), {"username": username, "password": password})
    assert client.get(reverse("home")).status_code == 200


def test_sign_in_address_follows_make_runs_port(monkeypatch):
    from iop.demo.management.commands.seed_demo import sign_in_url

    monkeypatch.setenv("PORT", "8123")
    monkeypatch.delenv("RUN_DEV_HOST", raising=False)
    assert sign_in_url() == "http://127.0.0.1:8123/"
    monkeypatch.delenv("PORT")
    assert sign_in_url() == "http://127.0.0.1:8000/"
