"""The patient list, chart, registration and editing through the browser."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from conftest import require_service
from iop.accounts.tests.factories import UserFactory
from patients.filters import search_patients
from patients.models import CareTeamRole, Patient
from patients.tests.factories import PatientFactory, admit


def make_team_patients(clinic, count: int) -> None:
    for _ in range(count):
        admit(
            PatientFactory(site=clinic.site_a),
            team={
                CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team,
                CareTeamRole.CASE_MANAGER: clinic.case_manager,
            },
        )


@pytest.mark.django_db
def test_patient_list_query_count_does_not_grow_with_patients(
    clinic, client, query_count, django_assert_num_queries
):
    client.force_login(clinic.clinician_on_team)
    make_team_patients(clinic, 4)  # 5 with the clinic's patient
    url = reverse("patients:list")
    client.get(url)  # warm up: the first audited read creates the audit chain's head
    five = query_count(lambda: client.get(url))
    make_team_patients(clinic, 45)  # 50
    with django_assert_num_queries(five):
        response = client.get(url)
    assert response.context["page"].paginator.count == 50


@pytest.mark.django_db
def test_patient_list_api_query_count_does_not_grow_with_patients(clinic, client, query_count):
    client.force_login(clinic.clinician_on_team)
    make_team_patients(clinic, 4)
    client.get("/api/v1/patients/")  # warm up: the first audited read creates the audit chain's head
    five = query_count(lambda: client.get("/api/v1/patients/"))
    make_team_patients(clinic, 45)
    assert query_count(lambda: client.get("/api/v1/patients/")) == five
    assert client.get("/api/v1/patients/").json()["count"] == 50


@pytest.mark.django_db
def test_patient_list_searches_by_name_mrn_and_date_of_birth(clinic, client):
    client.force_login(clinic.admin)
    other = PatientFactory(
        site=clinic.site_a,
        legal_first_name="Zed",
        legal_last_name="Quill",
        date_of_birth=datetime.date(1990, 4, 30),
    )
    url = reverse("patients:list")

    def listed(query):
        return {p.pk for p in client.get(url, query).context["page"].object_list}

    assert listed({"q": "quill"}) == {other.pk}
    assert listed({"q": "zed quill"}) == {other.pk}
    assert listed({"q": other.mrn}) == {other.pk}
    assert listed({"q": "1990-04-30"}) == {other.pk}
    assert listed({"q": "04/30/1990"}) == {other.pk}
    assert listed({"q": "nobody-by-this-name"}) == set()


@pytest.mark.django_db
def test_name_search_matches_within_one_name_never_across_two(clinic, client):
    """The search looks in one text of the three names (one trigram index, ADR 0009): a word
    still matches only inside one name, case-insensitively, and every word must match."""
    client.force_login(clinic.admin)
    patient = PatientFactory(
        site=clinic.site_a, legal_first_name="Marta", legal_last_name="Oyelaran", preferred_name="Tayo"
    )
    url = reverse("patients:list")

    def listed(query):
        return {p.pk for p in client.get(url, {"q": query}).context["page"].object_list}

    assert listed("tayo") == {patient.pk}  # preferred name
    assert listed("ARTA") == {patient.pk}  # inside the first name
    assert listed("yelar tay mar") == {patient.pk}  # each word in a different name
    assert listed("martaoyelaran") == set()  # the names are not one word
    assert listed("taoye") == set()  # nor does a word run from one name into the next
    assert listed("marta nobody") == set()  # every word must match


@pytest.mark.django_db
def test_name_search_is_one_index_search(clinic):
    require_service("PostgreSQL", connection.vendor == "postgresql", "the trigram index is PostgreSQL's")
    with connection.cursor() as cursor:  # a tiny table: ask whether the index can serve
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = search_patients(Patient.objects.all(), "oyelaran").explain()
    assert "patient_search_name_trgm" in plan


@pytest.mark.django_db
def test_patient_list_filters_by_site_status_phase_and_primary_clinician(clinic, client):
    client.force_login(clinic.admin)
    pre_admission = PatientFactory(site=clinic.site_a)
    url = reverse("patients:list")
    phase_1 = clinic.episode.current_phase

    def listed(query):
        return {p.pk for p in client.get(url, query).context["page"].object_list}

    assert listed({"status": "pre_admission"}) == {pre_admission.pk}
    assert listed({"status": "active"}) == {clinic.patient.pk}
    assert listed({"phase": str(phase_1.public_id)}) == {clinic.patient.pk}
    assert listed({"primary_clinician": str(clinic.clinician_on_team.public_id)}) == {clinic.patient.pk}
    assert listed({"site": str(clinic.site_a.public_id)}) == {clinic.patient.pk, pre_admission.pk}


@pytest.mark.django_db
def test_patient_list_ignores_a_bad_filter_value_with_a_message_not_a_500(clinic, client):
    client.force_login(clinic.admin)
    response = client.get(reverse("patients:list"), {"site": "not-a-site", "page": "999"})
    assert response.status_code == 200
    assert "is not a valid UUID" in response.content.decode()


@pytest.mark.django_db
def test_patient_list_paginates(clinic, client):
    client.force_login(clinic.clinician_on_team)
    make_team_patients(clinic, 30)
    first = client.get(reverse("patients:list"))
    second = client.get(reverse("patients:list"), {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 6


@pytest.mark.django_db
def test_htmx_search_returns_only_the_table(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.get(reverse("patients:list"), {"q": "McTestface"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "McTestface" in body


@pytest.mark.django_db
def test_chart_header_shows_name_mrn_age_program_phase_care_team_and_alerts(clinic, client):
    from patients.models import AlertSeverity, ClinicalAlert

    ClinicalAlert.objects.create(
        patient=clinic.patient, kind="safety", severity=AlertSeverity.HIGH, message="PHQ-9 item 9 positive"
    )
    client.force_login(clinic.clinician_on_team)
    page = client.get(reverse("patients:chart", args=[clinic.patient.public_id])).content.decode()
    header = page[page.index('data-testid="chart-header"') : page.index('class="nav nav-tabs')]
    for expected in [
        "McTestface",
        clinic.patient.mrn,
        "Adult SUD IOP",
        "Phase 1: Intensive",
        "Primary clinician",
        clinic.clinician_on_team.last_name,
        "PHQ-9 item 9 positive",
        "years",
    ]:
        assert expected in header, expected


@pytest.mark.django_db
def test_clinician_resolves_an_alert_once(clinic, client):
    from patients.models import ClinicalAlert

    alert = ClinicalAlert.objects.create(patient=clinic.patient, kind="safety", message="Check in today")
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:resolve_alert", args=[clinic.patient.public_id, alert.public_id])
    client.post(url)
    alert.refresh_from_db()
    assert alert.resolved_by == clinic.clinician_on_team
    response = client.post(url, follow=True)
    assert "already resolved" in response.content.decode()


@pytest.mark.django_db
def test_peer_support_cannot_resolve_alerts(clinic, client):
    from patients.models import ClinicalAlert

    alert = ClinicalAlert.objects.create(patient=clinic.patient, kind="safety", message="Check in today")
    client.force_login(clinic.peer_support)
    client.post(reverse("patients:resolve_alert", args=[clinic.patient.public_id, alert.public_id]))
    alert.refresh_from_db()
    assert alert.resolved_at is None


@pytest.mark.django_db
def test_registering_a_patient_opens_their_chart_and_keeps_the_form_on_errors(clinic, client):
    client.force_login(clinic.clinician_on_team)
    url = reverse("patients:create")
    bad = client.post(
        url,
        {
            "legal_first_name": "Ann",
            "legal_last_name": "Example",
            "date_of_birth": "2999-01-01",
            "site": str(clinic.site_a.public_id),
        },
    )
    assert bad.status_code == 200
    assert "cannot be in the future" in bad.content.decode()
    assert 'value="Example"' in bad.content.decode()  # nothing typed is lost
    good = client.post(
        url,
        {
            "legal_first_name": "Ann",
            "legal_last_name": "Example",
            "date_of_birth": "1980-01-01",
            "site": str(clinic.site_a.public_id),
        },
    )
    patient = Patient.objects.get(legal_last_name="Example")
    assert good.status_code == 302 and good.url == reverse("patients:chart", args=[patient.public_id])


@pytest.mark.django_db
def test_registering_at_a_site_one_does_not_work_at_is_refused(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        reverse("patients:create"),
        {
            "legal_first_name": "Ann",
            "legal_last_name": "Example",
            "date_of_birth": "1980-01-01",
            "site": str(clinic.site_b.public_id),
        },
    )
    assert response.status_code == 200 and not Patient.objects.filter(legal_last_name="Example").exists()


@pytest.mark.django_db
def test_a_stale_edit_is_refused_and_the_other_persons_change_is_kept(clinic, client):
    patient = clinic.patient
    url = reverse("patients:edit", args=[patient.public_id])
    form = {
        "legal_first_name": patient.legal_first_name,
        "legal_last_name": patient.legal_last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "version": patient.version,
    }
    client.force_login(clinic.clinician_on_team)
    assert client.post(url, {**form, "preferred_name": "First"}).status_code == 302
    client.force_login(clinic.case_manager)
    response = client.post(url, {**form, "preferred_name": "Second"})  # started from the old version
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    patient.refresh_from_db()
    assert patient.preferred_name == "First"


@pytest.mark.django_db
def test_unknown_chart_tab_is_404(clinic, client):
    client.force_login(clinic.clinician_on_team)
    assert (
        client.get(reverse("patients:chart_tab", args=[clinic.patient.public_id, "nope"])).status_code == 404
    )


@pytest.mark.django_db
def test_intake_pool_patient_is_seen_by_intake_staff_at_their_site_only(clinic, client):
    referral = PatientFactory(site=clinic.site_a)
    chart = reverse("patients:chart", args=[referral.public_id])
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(chart).status_code == 200
    client.force_login(clinic.peer_support)
    assert client.get(chart).status_code == 404
    other_site_clinician = UserFactory(username="zoe", sites=[clinic.site_b])
    client.force_login(other_site_clinician)
    assert client.get(chart).status_code == 404


@pytest.mark.django_db
def test_discharged_patient_stays_visible_to_their_former_care_team(clinic, client):
    episode = clinic.episode
    episode.status = "discharged"
    episode.discharged_on = datetime.date.today()
    episode.discharge_reason = "1"
    episode.save()
    client.force_login(clinic.clinician_on_team)
    assert client.get(reverse("patients:chart", args=[clinic.patient.public_id])).status_code == 200
