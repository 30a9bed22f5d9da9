"""Pure plan rules (no Django): intake suggestions, due dates, version comparison.

CLINICAL.md section 4 and issue 10: PHQ-9 of 10 or more suggests co-occurring depression, GAD-7
of 10 or more co-occurring anxiety, ASAM dimension 6 of 3 or more the recovery environment
(housing and transportation). Relapse prevention is suggested for every IOP patient.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

PHQ9_DEPRESSION_THRESHOLD = 10
GAD7_ANXIETY_THRESHOLD = 10
ASAM_DIMENSION_6_THRESHOLD = 3
DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class Suggestion:
    template_key: str
    reason: str


def suggest_problems(
    *, phq9: int | None = None, gad7: int | None = None, asam_ratings: Mapping[str, int] | None = None
) -> list[Suggestion]:
    """Problem templates suggested by the latest intake results (most specific first)."""
    suggestions = [Suggestion("relapse-prevention", "Substance use disorder in intensive outpatient care")]
    if phq9 is not None and phq9 >= PHQ9_DEPRESSION_THRESHOLD:
        suggestions.append(Suggestion("co-occurring-depression", f"PHQ-9 total {phq9} (10 or more)"))
    if gad7 is not None and gad7 >= GAD7_ANXIETY_THRESHOLD:
        suggestions.append(Suggestion("co-occurring-anxiety", f"GAD-7 total {gad7} (10 or more)"))
    dimension_6 = (asam_ratings or {}).get("6")
    if dimension_6 is not None and dimension_6 >= ASAM_DIMENSION_6_THRESHOLD:
        suggestions.append(
            Suggestion(
                "housing-transportation", f"ASAM dimension 6 (recovery environment) rated {dimension_6}"
            )
        )
    return suggestions


def initial_plan_due_on(admitted_on: date, due_days: int) -> date:
    """The initial plan is due `due_days` after admission."""
    return admitted_on + timedelta(days=due_days)


def next_review_due_on(since: date, interval_days: int) -> date:
    """The next review after an activation or a review on `since`."""
    return since + timedelta(days=interval_days)


def due_state(due_on: date | None, today: date, *, soon_days: int = DUE_SOON_DAYS) -> str:
    """'overdue' (past), 'due' (today or within `soon_days`), 'upcoming', or '' (nothing due)."""
    if due_on is None:
        return ""
    if due_on < today:
        return "overdue"
    if due_on <= today + timedelta(days=soon_days):
        return "due"
    return "upcoming"


# --- Comparing two versions -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One content row of a version, as plain data: its kind (problem, goal, objective,
    intervention), its lineage (the same across versions), its parent's lineage and its fields."""

    kind: str
    lineage: str
    parent: str | None
    fields: Mapping[str, object]
    order: tuple = ()


@dataclass
class DiffRow:
    kind: str
    lineage: str
    change: str  # "added", "removed", "changed", "same"
    old: Mapping[str, object] | None
    new: Mapping[str, object] | None
    changed_fields: list[str] = field(default_factory=list)
    moved: bool = False
    depth: int = 0


KIND_DEPTH = {"problem": 0, "goal": 1, "objective": 2, "intervention": 3}


def diff_versions(old: Iterable[Item], new: Iterable[Item]) -> list[DiffRow]:
    """Rows for a side-by-side comparison, in plan order (the newer version's, with removed
    items after their former neighbours): each item is added, removed, changed (naming the
    fields) or the same. An item that moved to another parent counts as changed ("moved")."""
    old_by = {item.lineage: item for item in old}
    new_by = {item.lineage: item for item in new}
    rows: list[DiffRow] = []
    # Walk the newer tree, then append the removed items of the older one under their parents.
    children: dict[str | None, list[Item]] = {}
    for item in [*new_by.values(), *(i for i in old_by.values() if i.lineage not in new_by)]:
        children.setdefault(item.parent, []).append(item)
    for siblings in children.values():
        siblings.sort(key=lambda i: (i.lineage not in new_by, i.order, i.lineage))

    def row_for(item: Item) -> DiffRow:
        before, after = old_by.get(item.lineage), new_by.get(item.lineage)
        depth = KIND_DEPTH.get(item.kind, 0)
        if before is None:
            return DiffRow(item.kind, item.lineage, "added", None, after.fields, depth=depth)
        if after is None:
            return DiffRow(item.kind, item.lineage, "removed", before.fields, None, depth=depth)
        names = sorted(set(before.fields) | set(after.fields))
        changed = [name for name in names if before.fields.get(name) != after.fields.get(name)]
        moved = before.parent != after.parent
        change = "changed" if changed or moved else "same"
        return DiffRow(item.kind, item.lineage, change, before.fields, after.fields, changed, moved, depth)

    def walk(parent: str | None) -> None:
        for item in children.get(parent, []):
            rows.append(row_for(item))
            walk(item.lineage)

    walk(None)
    return rows


def diff_summary(rows: Iterable[DiffRow]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "changed": 0, "same": 0}
    for row in rows:
        counts[row.change] += 1
    return counts


def missing_signers(required: Iterable[str], signed: Iterable[str]) -> list[str]:
    """The required signer roles that have not signed yet, in the required order."""
    have = set(signed)
    return [role for role in required if role not in have]


def digest_of(items: Iterable[Item]) -> str:
    """SHA-256 of a version's content (its items in plan order): what the signers sign."""
    rows = [[i.kind, i.lineage, i.parent, {k: str(v) for k, v in i.fields.items()}] for i in items]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode("utf-8")).hexdigest()
