"""Admins manage sites and staff from pages in the app."""

import pytest
from django.urls import reverse

from iop.accounts.models import Role, Site, User
from iop.audit.models import AuditEntry


@pytest.mark.django_db
def test_admin_creates_a_site_and_administers_it(clinic, client):
    client.force_login(clinic.admin)
    response = client.post(
        reverse("accounts:site_create"),
        {
            "name": "Eastgate",
            "timezone": "America/Chicago",
            "operating_days": ["1", "2", "3", "4"],
            "daily_draw_time": "05:45",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(name="Eastgate")
    assert site.operating_days == [1, 2, 3, 4] and str(site.timezone) == "America/Chicago"
    assert clinic.admin.sites.filter(pk=site.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(site.public_id)).exists()


@pytest.mark.django_db
def test_site_form_explains_its_errors(clinic, client):
    client.force_login(clinic.admin)
    response = client.post(
        reverse("accounts:site_create"), {"name": "", "timezone": "Mars/Olympus", "daily_draw_time": "25:99"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "This field is required" in body and "Select a valid choice" in body and "Enter a valid time" in body
    )


@pytest.mark.django_db
def test_two_admins_editing_a_site_do_not_overwrite_each_other(clinic, client):
    site = clinic.site_a
    url = reverse("accounts:site_edit", args=[site.public_id])
    form = {
        "name": site.name,
        "timezone": "America/New_York",
        "operating_days": ["1", "2", "3", "4", "5"],
        "daily_draw_time": "05:30",
        "is_active": "on",
        "version": site.version,
    }
    client.force_login(clinic.admin)
    assert client.post(url, {**form, "phone": "555-0100"}).status_code == 302
    response = client.post(url, {**form, "phone": "555-0199"})
    assert "Someone else changed this record" in response.content.decode()
    site.refresh_from_db()
    assert site.phone == "555-0100"


@pytest.mark.django_db
def test_admin_creates_staff_with_a_role_and_sites(clinic, client):
    client.force_login(clinic.admin)
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "newnurse",
            "password": "a-long-unusual-passphrase",
            "first_name": "Nia",
            "last_name": "Nurse",
            "role": Role.MEDICAL,
            "sites": [clinic.site_a.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    user = User.objects.get(username="newnurse")
    assert user.role == Role.MEDICAL and list(user.sites.all()) == [clinic.site_a]
    assert user.check_password("a-long-unusual-passphrase")


@pytest.mark.django_db
def test_staff_form_rejects_a_weak_password_and_a_foreign_site(clinic, client):
    client.force_login(clinic.admin)
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "weak",
            "password": "12345",
            "first_name": "W",
            "last_name": "K",
            "role": Role.CLINICIAN,
            "sites": [clinic.site_b.pk],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and not User.objects.filter(username="weak").exists()
    assert "Select a valid choice" in body  # site B is not the admin's


@pytest.mark.django_db
def test_only_clinicians_can_be_clinical_supervisors(clinic, client):
    client.force_login(clinic.admin)
    url = reverse("accounts:staff_edit", args=[clinic.case_manager.public_id])
    response = client.post(
        url,
        {
            "first_name": "C",
            "last_name": "M",
            "role": Role.CASE_MANAGER,
            "is_clinical_supervisor": "on",
            "sites": [clinic.site_a.pk],
            "is_active": "on",
        },
    )
    assert "Only clinicians can be clinical supervisors" in response.content.decode()


@pytest.mark.django_db
def test_admin_cannot_demote_themselves(clinic, client):
    client.force_login(clinic.admin)
    url = reverse("accounts:staff_edit", args=[clinic.admin.public_id])
    response = client.post(
        url,
        {
            "first_name": "A",
            "last_name": "D",
            "role": Role.CLINICIAN,
            "sites": [clinic.site_a.pk],
            "is_active": "on",
        },
    )
    assert "cannot remove your own admin role" in response.content.decode()
    clinic.admin.refresh_from_db()
    assert clinic.admin.role == Role.ADMIN


@pytest.mark.django_db
def test_staff_list_searches_and_filters_by_role(clinic, client):
    client.force_login(clinic.admin)

    def usernames(query):
        return {u.username for u in client.get(reverse("accounts:staff_list"), query).context["page"]}

    assert usernames({"role": Role.MEDICAL}) == {"mia"}
    assert usernames({"q": "carol"}) == {"carol"}


@pytest.mark.django_db
def test_staff_list_query_count_does_not_grow_with_staff(clinic, client, query_count):
    from iop.accounts.tests.factories import UserFactory

    client.force_login(clinic.admin)
    few = query_count(lambda: client.get(reverse("accounts:staff_list")))
    for n in range(15):
        UserFactory(username=f"extra{n}", sites=[clinic.site_a])
    assert query_count(lambda: client.get(reverse("accounts:staff_list"))) == few


@pytest.mark.django_db
def test_site_list_counts_every_active_staff_member_of_the_site(clinic, client):
    client.force_login(clinic.admin)
    sites = {site.name: site for site in client.get(reverse("accounts:site_list")).context["sites"]}
    # alice, bob, carol, mia, pete, sam and ada work at site A.
    assert sites["Northside"].staff_count == 7


@pytest.mark.django_db
def test_patient_filters_have_readable_labels(clinic, client):
    client.force_login(clinic.admin)
    page = client.get(reverse("patients:list")).content.decode()
    for label in ["Site", "Status", "Phase", "Primary clinician"]:
        assert f">{label}</label>" in page
    assert "invalid name" not in page
