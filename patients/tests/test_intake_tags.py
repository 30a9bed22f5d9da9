"""The intake queue's step badges (a template tag rather than an include per badge, ADR 0009)."""

from patients.templatetags.intake_tags import step_badge


def test_a_done_step_is_green_with_a_tick_and_its_count():
    html = step_badge(3, "screening", 3)
    assert html == (
        '<span class="badge text-bg-success me-1" title="Screening: done">'
        '<i class="bi bi-check2"></i> screening (3)</span>'
    )


def test_a_step_not_yet_done_is_grey_without_a_count():
    assert step_badge(False, "ASAM") == (
        '<span class="badge text-bg-light border text-secondary me-1" title="ASAM: not yet"> ASAM</span>'
    )
    assert "(0)" not in step_badge(0, "screening", 0)


def test_labels_are_escaped():
    assert "<b>" not in step_badge(True, "<b>x</b>")
