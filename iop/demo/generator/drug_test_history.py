"""Two years of drug-testing history for the reference workload, written set-based on PostgreSQL.

The reference clinic needs the volume of an established programme (about 500,000 analyte
results at full scale) so that the benchmark's testing pages, reports and verification run
against realistic tables. Running the real draw day by day for two years would take longer
than the whole workload's ten-minute budget, so this history is GENERATED, and says so:

- each operating day of each site before the real draws gets a `Draw` with
  `trigger=DrawTrigger.GENERATED`, algorithm version "history" and a snapshot that only says it
  is generated; `verify_draw` reports such a draw as generated history and does not claim to
  verify it (ADR 0011). The month keys are the real service's (`commit_month_key`).
- every patient whose episode was open at the site that day (admitted before it, not yet
  discharged) is selected with one probability, chosen so that the whole history holds about
  `RESULTS_AT_FULL_SCALE` results per 26,000 patients; the choice is a hash of the draw and the
  episode, so a rebuild makes the same rows.
- each selection has its random order, its collection (a few no-shows and refusals, a few
  dilute specimens) and one finalised screen result per analyte of the order's panel, mostly
  negative; an unexpected positive gets its finalised confirmation.

Six INSERT ... SELECT statements per site; nothing is read back into Python.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection

from iop.demo.generator.clinic import DemoClinic
from testing.models import DrawTrigger
from testing.services.draws import commit_month_key

RESULTS_AT_FULL_SCALE = 500_000
REFERENCE_PATIENTS = 26_000
HISTORY_VERSION = "history"
HISTORY_SNAPSHOT = (
    '{"generated_history": true, "note": "Generated benchmark history, not a draw under the '
    'algorithm: verify_draw does not verify it."}'
)
# A number in [0, 1) from a hash of the given SQL text expression: deterministic, unlike random().
UNIT = "(('x' || substr(md5({}), 1, 8))::bit(32)::bigint / 4294967296.0)"


def _unit(expression: str) -> str:
    return UNIT.format(expression)


def build_history(clinic: DemoClinic, site, *, until: date, collector, clinician) -> None:
    """Generated draws, orders, collections and results at `site` on its operating days from
    `clinic.history_weeks` ago up to (not including) `until`. Idempotent: a day that already has
    a draw is skipped."""
    if connection.vendor != "postgresql":
        return
    start = until - timedelta(weeks=clinic.history_weeks)
    months = sorted({(start + timedelta(days=n)).replace(day=1) for n in range((until - start).days)})
    for month in months:
        commit_month_key(site=site, month=month, actor=None)
    share = min(1.0, len(clinic.site_list) and clinic.patients / REFERENCE_PATIENTS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM testing_analyte a JOIN testing_panel p ON p.id = a.panel_id "
            "WHERE p.is_active"
        )
        analytes = max(1, cursor.fetchone()[0])
        weekdays = list(site.operating_days)
        cursor.execute(
            "CREATE TEMPORARY TABLE history_day AS "
            "SELECT d::date AS day FROM generate_series(%s::date, %s::date, '1 day') AS d "
            "WHERE extract(isodow FROM d)::int = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM testing_draw w WHERE w.site_id = %s AND w.date = d::date)",
            [start, until - timedelta(days=1), weekdays, site.pk],
        )
        # patient-days in the pool, to set the one selection probability
        cursor.execute(
            "SELECT count(*) FROM history_day h JOIN patients_episode e ON e.site_id = %s "
            "AND e.admitted_on < h.day AND (e.discharged_on IS NULL OR e.discharged_on >= h.day)",
            [site.pk],
        )
        pool_days = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM history_day")
        days = range(cursor.fetchone()[0])
        if not pool_days:
            cursor.execute("DROP TABLE history_day")
            return
        sites = max(1, len(clinic.site_list))
        wanted_specimens = RESULTS_AT_FULL_SCALE * share / sites / analytes
        probability = min(0.6, wanted_specimens / pool_days)
        cursor.execute(
            "INSERT INTO testing_draw (public_id, created_at, updated_at, site_id, date, key_id, "
            "algorithm_version, nonce, snapshot, snapshot_hash, pool_size, selected_count, trigger, "
            "reason, triggered_by_id) "
            "SELECT md5('draw-' || %s || '-' || h.day)::uuid, h.day + time '07:00', h.day + time '07:00', "
            "%s, h.day, k.id, %s, '', %s::jsonb, '', "
            "(SELECT count(*) FROM patients_episode e WHERE e.site_id = %s AND e.admitted_on < h.day "
            " AND (e.discharged_on IS NULL OR e.discharged_on >= h.day)), 0, %s, '', NULL "
            "FROM history_day h JOIN testing_drawkey k ON k.site_id = %s "
            "AND k.month = date_trunc('month', h.day)::date",
            [site.pk, site.pk, HISTORY_VERSION, HISTORY_SNAPSHOT, site.pk, DrawTrigger.GENERATED, site.pk],
        )
        cursor.execute(
            "INSERT INTO testing_drawselection (public_id, created_at, updated_at, draw_id, patient_id, "
            "episode_id, pseudonym, probability, status, notified_at) "
            "SELECT md5('selection-' || w.id || '-' || e.id)::uuid, w.created_at, w.created_at, w.id, "
            "e.patient_id, e.id, substr(md5('pseudonym-' || w.id || '-' || e.id), 1, 16), %s, "
            "CASE WHEN " + _unit("'outcome-' || w.id || '-' || e.id") + " < 0.04 "
            "THEN 'not_collected' ELSE 'collected' END, NULL "
            "FROM testing_draw w JOIN patients_episode e ON e.site_id = w.site_id "
            "AND e.admitted_on < w.date AND (e.discharged_on IS NULL OR e.discharged_on >= w.date) "
            "WHERE w.site_id = %s AND w.trigger = %s AND w.selected_count = 0 "
            "AND " + _unit("'select-' || w.id || '-' || e.id") + " < %s",
            [f"{probability:.6f}", site.pk, DrawTrigger.GENERATED, probability],
        )
        cursor.execute(
            "UPDATE testing_draw w SET selected_count = s.n FROM "
            "(SELECT draw_id, count(*) AS n FROM testing_drawselection GROUP BY draw_id) s "
            "WHERE s.draw_id = w.id AND w.site_id = %s AND w.trigger = %s AND w.selected_count = 0",
            [site.pk, DrawTrigger.GENERATED],
        )
        cursor.execute(
            "INSERT INTO testing_drugtestorder (public_id, created_at, updated_at, version, patient_id, "  # noqa: S608 - constant fragments
            "episode_id, site_id, kind, reason, due_on, selection_id, panel_id, specimen_type, "
            "observed_required, status, ordered_by_id) "
            "SELECT md5('order-' || s.id)::uuid, s.created_at, s.created_at, 1, s.patient_id, s.episode_id, "
            "w.site_id, 'random', '', w.date, s.id, "
            "COALESCE(p.panel_id, (SELECT min(id) FROM testing_panel WHERE is_active)), "
            "COALESCE(p.specimen_type, 'urine'), COALESCE(p.observed_collection, false), "
            "CASE WHEN s.status = 'collected' THEN 'collected' "
            "WHEN " + _unit("'refused-' || s.id") + " < 0.25 THEN 'refused' ELSE 'no_show' END, NULL "
            "FROM testing_drawselection s JOIN testing_draw w ON w.id = s.draw_id "
            "JOIN patients_episode e ON e.id = s.episode_id "
            "LEFT JOIN testing_testingpolicy p ON p.phase_id = e.current_phase_id "
            "WHERE w.site_id = %s AND w.trigger = %s "
            "AND NOT EXISTS (SELECT 1 FROM testing_drugtestorder o WHERE o.selection_id = s.id)",
            [site.pk, DrawTrigger.GENERATED],
        )
        clinic.created["draws (generated history)"] += len(days)
        dilute = _unit("'dilute-' || o.id") + " < 0.02"
        cursor.execute(
            "INSERT INTO testing_specimen (public_id, created_at, updated_at, order_id, patient_id, outcome, "  # noqa: S608
            "counts_as_positive, collector_id, collected_at, specimen_type, observed, temperature_c, "
            "temperature_in_range, chain_of_custody_number, self_report, creatinine, specific_gravity, ph, "
            "nitrite, foreign_substance, validity, validity_findings, note) "
            "SELECT md5('specimen-' || o.id)::uuid, t.at, t.at, o.id, o.patient_id, "
            "CASE o.status WHEN 'collected' THEN 'collected' ELSE o.status END, "
            "o.status <> 'collected' OR (" + dilute + "), %s, t.at, o.specimen_type, o.observed_required, "
            "CASE WHEN o.status = 'collected' THEN 34.5 END, CASE WHEN o.status = 'collected' THEN true END, "
            "CASE WHEN o.status = 'collected' "
            "THEN 'HIST-' || upper(substr(replace(o.public_id::text, '-', ''), 1, 12)) "
            "ELSE '' END, '', "
            "CASE WHEN o.status <> 'collected' THEN NULL WHEN " + dilute + " THEN 14.0 ELSE 120.0 END, "
            "CASE WHEN o.status <> 'collected' THEN NULL WHEN " + dilute + " THEN 1.0020 ELSE 1.0150 END, "
            "CASE WHEN o.status = 'collected' THEN 6.0 END, NULL, false, "
            "CASE WHEN o.status <> 'collected' THEN 'not_assessed' WHEN " + dilute + " THEN 'dilute' "
            "ELSE 'valid' END, '[]'::jsonb, '' "
            "FROM testing_drugtestorder o JOIN testing_drawselection s ON s.id = o.selection_id "
            "JOIN testing_draw w ON w.id = s.draw_id "
            "CROSS JOIN LATERAL (SELECT w.date + time '09:00' + ("
            + _unit("'at-' || o.id")
            + " * interval '7 hours') "
            "AS at) t "
            "WHERE w.site_id = %s AND w.trigger = %s "
            "AND NOT EXISTS (SELECT 1 FROM testing_specimen x WHERE x.order_id = o.id)",
            [collector.pk, site.pk, DrawTrigger.GENERATED],
        )
        positive = _unit("'positive-' || sp.id || '-' || a.id") + " < 0.012"
        cursor.execute(
            "INSERT INTO testing_analyteresult (public_id, created_at, updated_at, specimen_id, analyte_id, "  # noqa: S608
            "stage, device_or_assay, lot, cutoff, value, unit, outcome, expected, expected_because, "
            "finalised_at, amendment_reason, amends_id, entered_by_id, finalised_by_id) "
            "SELECT md5('screen-' || sp.id || '-' || a.id)::uuid, sp.collected_at, sp.collected_at, "
            "sp.id, a.id, "
            "'screen', %s, 'H' || to_char(sp.collected_at, 'YYMM'), a.screen_cutoff, NULL, a.unit, "
            "CASE WHEN " + positive + " THEN 'positive' ELSE 'negative' END, false, '', "
            "sp.collected_at + interval '1 hour', '', NULL, %s, %s "
            "FROM testing_specimen sp JOIN testing_drugtestorder o ON o.id = sp.order_id "
            "JOIN testing_drawselection s ON s.id = o.selection_id JOIN testing_draw w ON w.id = s.draw_id "
            "JOIN testing_analyte a ON a.panel_id = o.panel_id "
            "WHERE w.site_id = %s AND w.trigger = %s AND sp.outcome = 'collected' "
            "AND NOT EXISTS (SELECT 1 FROM testing_analyteresult r WHERE r.specimen_id = sp.id)",
            ["DemoCup 10-panel (fictional)", collector.pk, clinician.pk, site.pk, DrawTrigger.GENERATED],
        )
        screens = cursor.rowcount
        cursor.execute(
            "INSERT INTO testing_analyteresult (public_id, created_at, updated_at, specimen_id, analyte_id, "
            "stage, device_or_assay, lot, cutoff, value, unit, outcome, expected, expected_because, "
            "finalised_at, amendment_reason, amends_id, entered_by_id, finalised_by_id) "
            "SELECT md5('confirmation-' || r.id)::uuid, r.created_at, r.created_at, r.specimen_id, "
            "r.analyte_id, "
            "'confirmation', %s, '', COALESCE(a.confirmation_cutoff, a.screen_cutoff), "
            "COALESCE(a.confirmation_cutoff, a.screen_cutoff) * 4, a.unit, 'positive', false, '', "
            "r.created_at + interval '2 days', '', NULL, %s, %s "
            "FROM testing_analyteresult r JOIN testing_analyte a ON a.id = r.analyte_id "
            "JOIN testing_specimen sp ON sp.id = r.specimen_id "
            "JOIN testing_drugtestorder o ON o.id = sp.order_id "
            "JOIN testing_drawselection s ON s.id = o.selection_id JOIN testing_draw w ON w.id = s.draw_id "
            "WHERE w.site_id = %s AND w.trigger = %s AND r.stage = 'screen' AND r.outcome = 'positive' "
            "AND NOT EXISTS (SELECT 1 FROM testing_analyteresult c WHERE c.specimen_id = r.specimen_id "
            "AND c.analyte_id = r.analyte_id AND c.stage = 'confirmation')",
            [
                "LC-MS/MS, Demo Reference Lab (fictional)",
                collector.pk,
                clinician.pk,
                site.pk,
                DrawTrigger.GENERATED,
            ],
        )
        clinic.created["drug test results (generated history)"] += screens + cursor.rowcount
        cursor.execute("DROP TABLE history_day")
