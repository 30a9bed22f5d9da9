"""The seeded session types (issue 8, item 1) and the default attendance policy, as data.

Used by the data migration (historical models) and by tests and the demo (real models), so the
list exists once. Whether a type counts toward clinical hours is program practice, editable by
admins: mutual-help meetings, life skills and exercise are supportive, not clinical services.
"""

SESSION_TYPES = [
    # name, kind, default minutes, counts toward clinical hours
    ("Group therapy", "group", 90, True),
    ("Individual counselling", "individual", 50, True),
    ("Family therapy", "family", 60, True),
    ("12-step / mutual help", "group", 60, False),
    ("Psycho-education", "group", 90, True),
    ("Relapse prevention", "group", 90, True),
    ("Skill building", "group", 90, True),
    ("Employment and life skills", "group", 60, False),
    ("Exercise or mindfulness", "group", 60, False),
    ("Medication management", "individual", 30, True),
    ("Psychiatric evaluation", "individual", 60, True),
]

DEFAULT_POLICY = {
    "max_unexcused_absences": 6,
    "absence_window_weeks": 12,
    "excused_notice_hours": 48,
    "missed_in_a_row_alert": 2,
    "billable_day_minutes": 180,
}


def ensure_session_types(session_type_model) -> None:
    for name, kind, minutes, clinical in SESSION_TYPES:
        session_type_model.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "default_minutes": minutes, "counts_toward_clinical_hours": clinical},
        )


def ensure_policy(policy_model, program):
    policy, _ = policy_model.objects.get_or_create(program=program, defaults=DEFAULT_POLICY)
    return policy
