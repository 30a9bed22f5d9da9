"""The pure plan rules: intake suggestions, due dates, version comparison."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatment_plans import rules
from treatment_plans.rules import Item, diff_summary, diff_versions


def keys(suggestions):
    return [s.template_key for s in suggestions]


def test_relapse_prevention_is_suggested_for_everyone():
    assert keys(rules.suggest_problems()) == ["relapse-prevention"]


@pytest.mark.parametrize(
    ("phq9", "gad7", "dim6", "expected"),
    [
        (9, 9, 2, []),
        (10, 9, 2, ["co-occurring-depression"]),
        (9, 10, 2, ["co-occurring-anxiety"]),
        (9, 9, 3, ["housing-transportation"]),
        (27, 21, 4, ["co-occurring-depression", "co-occurring-anxiety", "housing-transportation"]),
        (None, None, None, []),
    ],
)
def test_intake_results_suggest_problems_at_the_thresholds(phq9, gad7, dim6, expected):
    ratings = {"6": dim6} if dim6 is not None else None
    suggested = rules.suggest_problems(phq9=phq9, gad7=gad7, asam_ratings=ratings)
    assert keys(suggested) == ["relapse-prevention", *expected]
    assert all(s.reason for s in suggested)


def test_suggestion_reasons_name_the_score():
    (depression,) = [
        s for s in rules.suggest_problems(phq9=14) if s.template_key == "co-occurring-depression"
    ]
    assert "PHQ-9 total 14" in depression.reason


def test_initial_plan_and_review_due_dates():
    assert rules.initial_plan_due_on(date(2026, 3, 2), 7) == date(2026, 3, 9)
    assert rules.next_review_due_on(date(2026, 3, 9), 30) == date(2026, 4, 8)
    assert rules.next_review_due_on(date(2026, 12, 20), 14) == date(2027, 1, 3)


@pytest.mark.parametrize(
    ("due", "state"),
    [
        (None, ""),
        (date(2026, 5, 9), "overdue"),
        (date(2026, 5, 10), "due"),
        (date(2026, 5, 13), "due"),
        (date(2026, 5, 14), "upcoming"),
    ],
)
def test_due_state(due, state):
    assert rules.due_state(due, date(2026, 5, 10)) == state


def test_missing_signers_keeps_the_required_order():
    required = ["patient", "primary_clinician", "clinical_supervisor"]
    assert rules.missing_signers(required, ["clinical_supervisor"]) == ["patient", "primary_clinician"]
    assert rules.missing_signers(required, required) == []


def problem(lineage, title, order=0):
    return Item("problem", lineage, None, {"title": title}, (order,))


def goal(lineage, parent, text, order=0):
    return Item("goal", lineage, parent, {"text": text}, (order,))


def test_diff_marks_added_removed_changed_and_same_items_in_plan_order():
    old = [problem("p1", "Relapse"), goal("g1", "p1", "Stay sober"), problem("p2", "Legal", 1)]
    new = [
        problem("p1", "Relapse prevention"),
        goal("g1", "p1", "Stay sober"),
        goal("g2", "p1", "Rebuild trust", 1),
        problem("p3", "Housing", 2),
    ]
    rows = diff_versions(old, new)
    assert [(r.lineage, r.change) for r in rows] == [
        ("p1", "changed"),
        ("g1", "same"),
        ("g2", "added"),
        ("p3", "added"),
        ("p2", "removed"),
    ]
    assert rows[0].changed_fields == ["title"]
    assert rows[0].old == {"title": "Relapse"} and rows[0].new == {"title": "Relapse prevention"}
    assert [r.depth for r in rows] == [0, 1, 1, 0, 0]
    assert diff_summary(rows) == {"added": 2, "removed": 1, "changed": 1, "same": 1}


def test_diff_counts_a_move_to_another_problem_as_a_change():
    old = [problem("p1", "A"), problem("p2", "B", 1), goal("g1", "p1", "x")]
    new = [problem("p1", "A"), problem("p2", "B", 1), goal("g1", "p2", "x")]
    (moved,) = [r for r in diff_versions(old, new) if r.lineage == "g1"]
    assert moved.change == "changed" and moved.moved and moved.changed_fields == []


def test_removed_children_follow_their_removed_parent():
    old = [problem("p1", "A"), goal("g1", "p1", "x")]
    rows = diff_versions(old, [])
    assert [(r.lineage, r.change) for r in rows] == [("p1", "removed"), ("g1", "removed")]


titles = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), st.sampled_from(["x", "y"]), max_size=5)


@given(titles, titles)
def test_diff_accounts_for_every_item_exactly_once(before, after):
    old = [problem(k, v) for k, v in before.items()]
    new = [problem(k, v) for k, v in after.items()]
    rows = diff_versions(old, new)
    assert sorted(r.lineage for r in rows) == sorted(set(before) | set(after))
    for row in rows:
        expected = (
            "added"
            if row.lineage not in before
            else "removed"
            if row.lineage not in after
            else "same"
            if before[row.lineage] == after[row.lineage]
            else "changed"
        )
        assert row.change == expected


@given(titles)
def test_a_version_compared_with_itself_has_no_changes(items):
    version = [problem(k, v) for k, v in items.items()]
    assert all(r.change == "same" for r in diff_versions(version, version))
