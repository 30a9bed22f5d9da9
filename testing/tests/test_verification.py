"""`verify_draw` passes an honest draw and detects a changed selection, a changed snapshot, a
wrong key and a broken chain."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from iop.audit.models import AuditEntry
from patients.tests.factories import PatientFactory, admit, default_program
from testing.models import Draw, DrawKey, DrawSelection
from testing.services import draws
from testing.verification import verify_draw

NY = ZoneInfo("America/New_York")
MONDAY = datetime.date(2026, 3, 2)


def tamper(sql: str, params: list) -> None:
    """Change rows behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


@pytest.fixture
def draw(clinic, time_machine):
    time_machine.move_to(datetime.datetime(2026, 2, 25, 1, 10, tzinfo=NY), tick=False)
    draws.commit_next_month_keys()
    for _ in range(30):
        admit(PatientFactory(site=clinic.site_a), admitted_on=datetime.date(2026, 2, 27))
    time_machine.move_to(datetime.datetime(2026, 3, 2, 5, 30, tzinfo=NY), tick=False)
    return draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw


def failed(draw_row: Draw) -> dict[str, str]:
    report = verify_draw(Draw.objects.select_related("key", "site").get(pk=draw_row.pk), whole_chain=True)
    return {check.name: check.detail for check in report.checks if not check.ok}


def test_an_honest_draw_verifies(draw):
    report = verify_draw(draw, whole_chain=True)
    assert report.ok, [c for c in report.checks if not c.ok]
    assert [c.name for c in report.checks] == [
        "Snapshot hash",
        "Draw in the audit chain",
        "Month key and commitment",
        "Selections recomputed",
        "Selection records",
        "Audit chain",
    ]


def test_the_command_exits_0_for_an_honest_draw(draw, capsys):
    call_command("verify_draw", "--site", "northside", "--date", "2026-03-02")
    assert "verifies" in capsys.readouterr().out


def test_a_changed_selection_is_detected(draw, clinic):
    selection = DrawSelection.objects.filter(draw=draw).first()
    tamper("DELETE FROM testing_drugtestorder WHERE selection_id = %s", [selection.pk])
    tamper("DELETE FROM testing_drawselection WHERE id = %s", [selection.pk])
    assert "Selection records" in failed(draw)
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("verify_draw", "--site", "northside", "--date", "2026-03-02", "--skip-chain")


def test_a_selection_added_for_someone_not_drawn_is_detected(draw):
    unselected = next(e for e in draw.snapshot["pool"] if not e["selected"])
    tamper(
        "UPDATE testing_drawselection SET pseudonym = %s WHERE id = %s",
        [unselected["pseudonym"], draw.selections.first().pk],
    )
    problems = failed(draw)["Selection records"]
    assert "is recorded as selected but was not drawn" in problems
    assert "was drawn but has no selection record" in problems


def test_a_changed_snapshot_is_detected_even_with_a_recomputed_hash(draw):
    snapshot = json.loads(json.dumps(draw.snapshot))
    entry = next(e for e in snapshot["pool"] if not e["selected"])
    entry["selected"] = True
    tamper("UPDATE testing_draw SET snapshot = %s WHERE id = %s", [json.dumps(snapshot), draw.pk])
    problems = failed(draw)
    assert "Snapshot hash" in problems
    assert "Selections recomputed" in problems
    from testing.draw_rule import snapshot_hash

    tamper("UPDATE testing_draw SET snapshot_hash = %s WHERE id = %s", [snapshot_hash(snapshot), draw.pk])
    problems = failed(draw)
    assert "Snapshot hash" not in problems
    assert "recorded a different draw" in problems["Draw in the audit chain"]


def test_a_wrong_key_is_detected(draw):
    DrawKey.objects.filter(pk=draw.key_id).update(secret="00" * 32)
    problems = failed(draw)
    assert "does not match its commitment" in problems["Month key and commitment"]
    assert "U differs" in problems["Selections recomputed"]


def test_a_key_swapped_with_its_commitment_is_detected_by_the_chain(draw):
    from testing.draw_rule import commitment_of

    secret = bytes(range(32))
    DrawKey.objects.filter(pk=draw.key_id).update(secret=secret.hex(), commitment=commitment_of(secret))
    assert "commits to a different key" in failed(draw)["Month key and commitment"]


def test_a_broken_chain_is_detected(draw):
    entry = AuditEntry.objects.get(object_type=draws.DRAW_OBJECT, object_id=str(draw.public_id))
    tamper(
        "UPDATE audit_auditentry SET reason = %s WHERE sequence = %s", [entry.reason + " ", entry.sequence]
    )
    problems = failed(draw)
    assert "changed after writing" in problems["Draw in the audit chain"]
    assert "Audit chain" in problems
    with pytest.raises(CommandError):
        call_command("verify_draw", "--site", "northside", "--date", "2026-03-02")


def test_a_key_committed_after_the_month_started_fails(clinic, time_machine):
    admit(PatientFactory(site=clinic.site_a), admitted_on=datetime.date(2026, 2, 27))
    time_machine.move_to(datetime.datetime(2026, 3, 2, 5, 30, tzinfo=NY), tick=False)
    late = draws.run_daily_draw(site=clinic.site_a, day=MONDAY).draw
    assert "after the month had started" in failed(late)["Month key and commitment"]


def test_the_command_refuses_unknown_sites_dates_and_days_without_a_draw(draw):
    with pytest.raises(CommandError, match="No site"):
        call_command("verify_draw", "--site", "nowhere", "--date", "2026-03-02")
    with pytest.raises(CommandError, match="not a date"):
        call_command("verify_draw", "--site", "northside", "--date", "2026-13-02")
    with pytest.raises(CommandError, match="No draw"):
        call_command("verify_draw", "--site", "northside", "--date", "2026-03-03")


def test_simulate_draws_prints_the_issue_json(capsys):
    call_command(
        "simulate_draws",
        *"--tests-per-week 2 --eligible-days-per-week 5 --max-gap 5 --ramp 2".split(),
        *"--patients 4 --weeks 3 --seed 9".split(),
        "--json",
    )
    data = json.loads(capsys.readouterr().out)
    assert data["q"] == pytest.approx(0.3348, abs=1e-4)
    assert data["eligible_days"] == 15
    assert len(data["patients"]) == 4
    assert all(isinstance(day, int) for p in data["patients"] for day in p["selected_days"])


def test_simulate_draws_refuses_an_impossible_policy():
    with pytest.raises(CommandError, match="always below"):
        call_command(
            "simulate_draws", *"--tests-per-week 1 --eligible-days-per-week 5 --max-gap 3 --json".split()
        )


def test_bench_draw_times_a_site_of_synthetic_patients(db, settings, capsys):
    settings.BENCH_BARE_VIEW = True
    settings.AUDIT_CHECKPOINT_SINKS = []  # no checkpoint of a test database anywhere outside it
    default_program()
    call_command("bench_draw", "--patients", "30")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["patients"] == 30 and result["created"] and result["verified"]
    assert result["draw_ms"] > 0
    assert result["checkpoint_error"]  # not configured here: reported, not hidden


def test_bench_draw_is_refused_outside_a_benchmark_database(settings):
    settings.BENCH_BARE_VIEW = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG"):
        call_command("bench_draw", "--patients", "3")


def test_bench_draw_verifies_a_month_of_real_draws_and_notices_a_changed_one(
    draw, settings, capsys, time_machine
):
    settings.BENCH_BARE_VIEW = True
    settings.AUDIT_CHECKPOINT_SINKS = []
    call_command("bench_draw", "--patients", "5")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["verify_month_draws"] == 1 and result["verify_month_all_recomputed"]
    tamper("UPDATE testing_drawselection SET pseudonym = 'x' || pseudonym WHERE draw_id = %s", [draw.pk])
    time_machine.move_to(datetime.datetime(2026, 3, 2, 5, 40, tzinfo=NY), tick=False)  # another bench site
    call_command("bench_draw", "--patients", "5")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["verify_month_draws"] == 1 and not result["verify_month_all_recomputed"]
