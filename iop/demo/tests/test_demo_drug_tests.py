"""The demo clinic's drug testing: policies, real daily draws, collections, results, reviews."""

from io import StringIO

import pytest
from django.core.management import call_command

from iop.demo.generator import seed_demo_clinic
from patients.tests.factories import default_program
from testing import draw_rule
from testing.models import (
    AnalyteResult,
    Draw,
    DrawSelection,
    DrawTrigger,
    ResultReview,
    Specimen,
    TestingPolicy,
)
from testing.verification import verify_draw


@pytest.mark.django_db
def test_the_demo_clinic_has_weeks_of_draws_with_collections_and_results():
    default_program()  # a transactional test elsewhere may have flushed the migration's data
    call_command(
        "seed_demo",
        "--allow-without-debug",
        "--patients",
        "40",
        "--sites",
        "1",
        "--weeks",
        "4",
        "--no-progress",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert TestingPolicy.objects.count() == 2
    assert Draw.objects.count() >= 15  # four weeks of operating days
    assert DrawSelection.objects.count() > 0 and Specimen.objects.count() > 0
    assert AnalyteResult.objects.filter(finalised_at__isnull=False).exists()
    assert (
        AnalyteResult.objects.filter(expected=True).exists()
        or not AnalyteResult.objects.filter(analyte__code__in=["bup", "mtd"], outcome="positive").exists()
    )
    assert ResultReview.objects.exists()
    draw = Draw.objects.order_by("date").last()
    report = verify_draw(draw)
    failed = {check.name: check.detail for check in report.checks if not check.ok}
    # Everything recomputes; only the seeded past's key was committed when the demo was seeded.
    assert set(failed) <= {"Month key and commitment"}
    assert draw.snapshot_hash == draw_rule.snapshot_hash(draw.snapshot)


@pytest.mark.django_db
def test_the_reference_workload_has_generated_history_that_verify_draw_does_not_claim_to_verify():
    default_program()
    seed_demo_clinic(patients=80, sites=1, weeks=8, history_weeks=26, mix="reference")
    generated = Draw.objects.filter(trigger=DrawTrigger.GENERATED)
    real = Draw.objects.exclude(trigger=DrawTrigger.GENERATED)
    assert generated.count() >= 26 * 4 - 5 and real.exists()
    assert generated.order_by("date").last().date < real.order_by("date").first().date
    history = AnalyteResult.objects.filter(specimen__order__selection__draw__trigger=DrawTrigger.GENERATED)
    assert history.count() > 100 and not history.filter(finalised_at__isnull=True).exists()
    assert Specimen.objects.filter(order__selection__draw__trigger=DrawTrigger.GENERATED).exists()
    for draw in generated.order_by("?")[:3]:
        assert draw.selected_count == draw.selections.count() <= draw.pool_size
    report = verify_draw(generated.first())
    assert not report.ok and [check.name for check in report.checks] == ["Generated history"]
    counts = (Draw.objects.count(), AnalyteResult.objects.count(), Specimen.objects.count())
    seed_demo_clinic(patients=80, sites=1, weeks=8, history_weeks=26, mix="reference")
    assert (Draw.objects.count(), AnalyteResult.objects.count(), Specimen.objects.count()) == counts
