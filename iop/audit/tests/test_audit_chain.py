"""The audit trail: written with every chart read and clinical write, append-only, and a hash
chain whose verification points at the first edited, deleted or reordered entry."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from conftest import require_service
from iop.audit.models import AuditAction, AuditEntry, ChainVerification
from iop.audit.services import record_event, run_chain_verification, verify_chain
from iop.audit.tasks import verify_audit_chain_task


def write_entries(count: int, actor=None) -> list[AuditEntry]:
    return [
        record_event(
            actor=actor, action=AuditAction.UPDATE, object_type="patients.patient", object_id=f"obj-{n}"
        )
        for n in range(count)
    ]


def tamper(sql: str, params: list) -> None:
    """Change rows behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a database superuser can switch triggers off
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


@pytest.mark.django_db
def test_an_intact_chain_verifies():
    write_entries(5)
    report = verify_chain()
    assert report.ok and report.entries_checked == 5


@pytest.mark.django_db
def test_entries_are_numbered_without_gaps_and_linked_to_the_previous_hash():
    first, second, third = write_entries(3)
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert second.prev_hash == first.entry_hash and third.prev_hash == second.entry_hash


@pytest.mark.django_db
def test_verification_finds_an_edited_entry():
    entries = write_entries(5)
    tamper("UPDATE audit_auditentry SET object_id = %s WHERE sequence = %s", ["forged", entries[2].sequence])
    report = verify_chain()
    assert not report.ok
    assert report.first_broken_sequence == 3
    assert "changed" in report.problem


@pytest.mark.django_db
def test_verification_finds_a_deleted_entry():
    write_entries(5)
    tamper("DELETE FROM audit_auditentry WHERE sequence = %s", [4])
    report = verify_chain()
    assert not report.ok and report.first_broken_sequence == 4 and "missing" in report.problem


@pytest.mark.django_db
def test_verification_finds_the_last_entry_deleted():
    write_entries(5)
    tamper("DELETE FROM audit_auditentry WHERE sequence = %s", [5])
    report = verify_chain()
    assert not report.ok and report.first_broken_sequence == 5


@pytest.mark.django_db
def test_verification_finds_reordered_entries():
    write_entries(5)
    # Swap the sequence numbers of entries 2 and 3 (via a free number: sequence is unique).
    tamper("UPDATE audit_auditentry SET sequence = 1000 WHERE sequence = 2", [])
    tamper("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 3", [])
    tamper("UPDATE audit_auditentry SET sequence = 3 WHERE sequence = 1000", [])
    report = verify_chain()
    assert not report.ok and report.first_broken_sequence == 2


@pytest.mark.django_db
def test_the_application_refuses_to_change_or_delete_entries():
    entry = write_entries(1)[0]
    entry.object_id = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(object_id="changed")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.django_db
def test_postgresql_refuses_plain_sql_changes_to_entries():
    require_service("PostgreSQL", connection.vendor == "postgresql", "the trigger exists on PostgreSQL only")
    write_entries(1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET object_id = 'x'")


@pytest.mark.django_db
def test_an_entry_rolls_back_with_the_change_it_describes():
    with pytest.raises(RuntimeError), transaction.atomic():
        write_entries(1)
        raise RuntimeError("the change failed")
    assert AuditEntry.objects.count() == 0
    write_entries(1)
    assert verify_chain().ok


@pytest.mark.django_db
def test_verify_command_reports_the_first_broken_entry(capsys):
    write_entries(3)
    call_command("verify_audit_chain")
    assert "OK: 3 entries" in capsys.readouterr().out
    tamper("UPDATE audit_auditentry SET reason = %s WHERE sequence = %s", ["forged", 2])
    with pytest.raises(CommandError, match="#2"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_nightly_task_keeps_one_result_per_day_and_admins_see_a_broken_chain(clinic, client):
    write_entries(3)
    verify_audit_chain_task()
    verify_audit_chain_task()
    assert ChainVerification.objects.count() == 1 and ChainVerification.objects.get().ok
    tamper("UPDATE audit_auditentry SET reason = %s WHERE sequence = %s", ["forged", 2])
    run_chain_verification()
    client.force_login(clinic.admin)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="audit-chain-alert"' in page and "#2" in page


@pytest.mark.django_db
def test_reading_a_chart_writes_a_read_entry_with_actor_and_address(clinic, client):
    client.force_login(clinic.clinician_on_team)
    client.get(reverse("patients:chart", args=[clinic.patient.public_id]), REMOTE_ADDR="10.1.2.3")
    entry = AuditEntry.objects.get(action=AuditAction.READ)
    assert entry.actor == clinic.clinician_on_team
    assert entry.patient_public_id == clinic.patient.public_id
    assert entry.ip_address == "10.1.2.3"
    assert entry.object_type == "patients.chart.intake"


@pytest.mark.django_db
def test_reading_a_patient_through_the_api_is_audited(clinic, client):
    client.force_login(clinic.case_manager)
    client.get(f"/api/v1/patients/{clinic.patient.public_id}/")
    assert AuditEntry.objects.filter(
        action=AuditAction.READ, patient_public_id=clinic.patient.public_id
    ).exists()


@pytest.mark.django_db
def test_a_denied_chart_read_writes_nothing(clinic, client):
    client.force_login(clinic.clinician_elsewhere)
    assert client.get(reverse("patients:chart", args=[clinic.patient.public_id])).status_code == 404
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_editing_a_patient_writes_an_update_entry_naming_the_changed_fields(clinic, client):
    client.force_login(clinic.clinician_on_team)
    patient = clinic.patient
    response = client.post(
        reverse("patients:edit", args=[patient.public_id]),
        {
            "legal_first_name": patient.legal_first_name,
            "legal_last_name": patient.legal_last_name,
            "preferred_name": "Tess",
            "pronouns": "she/her",
            "date_of_birth": patient.date_of_birth.isoformat(),
            "version": patient.version,
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.changed_fields == ["preferred_name", "pronouns"]
    assert entry.patient_public_id == patient.public_id


@pytest.mark.django_db
def test_admins_see_the_patients_audit_history_on_the_audit_tab(clinic, client):
    client.force_login(clinic.clinician_on_team)
    client.get(reverse("patients:chart", args=[clinic.patient.public_id]))
    client.force_login(clinic.admin)
    page = client.get(
        reverse("patients:chart_tab", args=[clinic.patient.public_id, "audit"])
    ).content.decode()
    assert 'data-testid="audit-history"' in page
    assert clinic.clinician_on_team.username in page
