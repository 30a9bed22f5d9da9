"""Read queries over the patients app, one module per area, always scoped through
`patients.access`. The record queries are re-exported here."""

from patients.selectors.records import (
    PATIENT_STATUS_CHOICES,
    PRE_ADMISSION,
    ChartHeader,
    active_alerts_for,
    active_episode_count,
    active_programs,
    break_glass_log,
    caseload_for,
    chart_header,
    episodes_of,
    patient_list_for,
    patient_rows_for_api,
    phases_for_filter,
    visible_episodes,
)

__all__ = [
    "PATIENT_STATUS_CHOICES",
    "PRE_ADMISSION",
    "ChartHeader",
    "active_alerts_for",
    "active_episode_count",
    "active_programs",
    "break_glass_log",
    "caseload_for",
    "chart_header",
    "episodes_of",
    "patient_list_for",
    "patient_rows_for_api",
    "phases_for_filter",
    "visible_episodes",
]
