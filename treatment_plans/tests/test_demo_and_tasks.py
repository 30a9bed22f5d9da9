"""The demo clinic's plans and the periodic due-notice task."""

import datetime

import pytest
from django.conf import settings

from iop.demo.generator.seed import seed_demo_clinic
from treatment_plans import selectors, services
from treatment_plans.models import PlanDueNotice, PlanVersion, Signature, TreatmentPlan, VersionStatus
from treatment_plans.tasks import record_plan_due_notices_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    from importlib import import_module

    from django.apps import apps as django_apps

    from patients.models import Program

    if not Program.objects.filter(name="Adult SUD IOP").exists():
        import_module("patients.migrations.0002_default_program").seed(django_apps, None)
    return seed_demo_clinic(patients=24, sites=2, weeks=8)


def test_admitted_demo_patients_have_plans_signed_or_in_draft(demo):
    plans = list(TreatmentPlan.objects.select_related("episode"))
    assert plans
    statuses = {v.status for v in PlanVersion.objects.all()}
    assert VersionStatus.ACTIVE in statuses
    for version in PlanVersion.objects.exclude(status=VersionStatus.DRAFT):
        # The digest the demo stored is the one the services compute from the stored content.
        assert version.content_digest == services.content_digest(version)
        assert set(version.signatures.values_list("content_digest", flat=True)) == {version.content_digest}
    for version in PlanVersion.objects.filter(status=VersionStatus.ACTIVE):
        assert version.signatures.count() == 3
        assert version.plan.next_review_due_on is not None


def test_a_second_demo_run_adds_no_plans(demo):
    count, signatures = TreatmentPlan.objects.count(), Signature.objects.count()
    seed_demo_clinic(patients=24, sites=2, weeks=8)
    assert (TreatmentPlan.objects.count(), Signature.objects.count()) == (count, signatures)


def test_the_task_records_due_notices_once(clinic):
    today = clinic.episode.admitted_on + datetime.timedelta(days=8)
    first = record_plan_due_notices_task(today.isoformat())
    second = record_plan_due_notices_task(today.isoformat())
    assert first["new"] == 1 and second["new"] == 0
    assert PlanDueNotice.objects.get().overdue_at is not None
    assert selectors.plans_due_for(clinic.clinician_on_team, today=today)[0].state == "overdue"


def test_the_task_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "treatment_plans.tasks.record_plan_due_notices_task" in tasks
