"""The seeded library of problem templates (CLINICAL.md section 4, issue 10), as data.

Used by the data migration (historical models) and by tests and the demo (real models), so the
library is defined once. A template is a starting point: the editor offers its suggestions, and
the plan holds what the clinician and the patient wrote from them.
"""

# ASAM dimensions: 1 intoxication/withdrawal, 2 biomedical, 3 emotional/behavioural/cognitive,
# 4 readiness to change, 5 relapse/continued use potential, 6 recovery environment.
PROBLEM_TEMPLATES = [
    {
        "key": "relapse-prevention",
        "name": "Relapse prevention",
        "asam_dimension": 5,
        "description": "Continued use or high risk of return to use: identifies few triggers, has no "
        "written plan for cravings or high-risk situations, limited sober support.",
        "suggested_goals": ["I want to stay sober and not go back to how things were."],
        "suggested_objectives": [
            "Identify at least 5 personal triggers and a coping response for each, written in a relapse-"
            "prevention plan reviewed with the counsellor.",
            "Provide negative or expected results on all random drug and alcohol tests.",
            "Attend at least 85% of scheduled group hours each week.",
        ],
        "suggested_interventions": [
            {
                "service_type": "relapse_prevention",
                "description": "Relapse-prevention group",
                "frequency": "2 times a week",
                "duration": "3 hours per session",
            },
            {
                "service_type": "drug_testing",
                "description": "Random observed urine drug screen",
                "frequency": "2 times a week (Phase 1)",
                "duration": "for the length of the program",
            },
            {
                "service_type": "individual_counselling",
                "description": "Individual counselling",
                "frequency": "once a week",
                "duration": "50 minutes",
            },
        ],
    },
    {
        "key": "co-occurring-depression",
        "name": "Co-occurring depression",
        "asam_dimension": 3,
        "description": "Depressive symptoms (PHQ-9 of 10 or more) that affect daily functioning and "
        "raise the risk of return to use.",
        "suggested_goals": ["I want to feel like myself again and get out of bed in the morning."],
        "suggested_objectives": [
            "Reduce PHQ-9 score by at least 5 points from admission, measured monthly.",
            "Schedule and complete at least 3 pleasant or valued activities a week, logged.",
        ],
        "suggested_interventions": [
            {
                "service_type": "individual_counselling",
                "description": "Cognitive behavioural therapy",
                "frequency": "once a week",
                "duration": "50 minutes",
            },
            {
                "service_type": "medication_management",
                "description": "Psychiatric evaluation and follow-up",
                "frequency": "monthly",
                "duration": "30 minutes",
            },
        ],
    },
    {
        "key": "co-occurring-anxiety",
        "name": "Co-occurring anxiety",
        "asam_dimension": 3,
        "description": "Anxiety symptoms (GAD-7 of 10 or more); uses substances to manage worry or panic.",
        "suggested_goals": ["I want to handle stress without drinking or using."],
        "suggested_objectives": [
            "Learn and practise 2 anxiety-management skills (e.g. paced breathing, grounding) daily, "
            "demonstrated in session.",
            "Reduce GAD-7 score by at least 4 points from admission.",
        ],
        "suggested_interventions": [
            {
                "service_type": "skill_building",
                "description": "Coping-skills group",
                "frequency": "once a week",
                "duration": "90 minutes",
            },
            {
                "service_type": "individual_counselling",
                "description": "Individual counselling",
                "frequency": "every 2 weeks",
                "duration": "50 minutes",
            },
        ],
    },
    {
        "key": "family-relationships",
        "name": "Family relationships",
        "asam_dimension": 6,
        "description": "Conflict with family or partner related to substance use; family not yet "
        "involved in recovery.",
        "suggested_goals": ["I want my family to trust me again."],
        "suggested_objectives": [
            "Attend at least 2 family sessions with a chosen family member within 6 weeks.",
            "Identify 2 ways family can support recovery, agreed in a family session.",
        ],
        "suggested_interventions": [
            {
                "service_type": "family_session",
                "description": "Family session",
                "frequency": "every 2 weeks",
                "duration": "60 minutes",
            },
            {
                "service_type": "psychoeducation",
                "description": "Family education night",
                "frequency": "monthly",
                "duration": "90 minutes",
            },
        ],
    },
    {
        "key": "employment-life-skills",
        "name": "Employment and life skills",
        "asam_dimension": 6,
        "description": "Unemployed or at risk of losing work or school place; gaps in daily-living "
        "skills (budgeting, routine).",
        "suggested_goals": ["I want a steady job and to pay my own bills."],
        "suggested_objectives": [
            "Complete a résumé and apply for at least 3 jobs within 4 weeks.",
            "Make a weekly budget and follow it for 4 weeks.",
        ],
        "suggested_interventions": [
            {
                "service_type": "case_management",
                "description": "Vocational referral and follow-up",
                "frequency": "every 2 weeks",
                "duration": "30 minutes",
            },
            {
                "service_type": "skill_building",
                "description": "Life-skills group",
                "frequency": "once a week",
                "duration": "60 minutes",
            },
        ],
    },
    {
        "key": "housing-transportation",
        "name": "Housing and transportation (recovery environment)",
        "asam_dimension": 6,
        "description": "Unstable or unsafe housing, or living with people who use; no reliable way to "
        "get to sessions (ASAM dimension 6 of 3 or more).",
        "suggested_goals": ["I want a safe place to live where people aren't using."],
        "suggested_objectives": [
            "Apply to at least 2 recovery residences or housing programmes within 2 weeks.",
            "Arrange reliable transport to every scheduled session (bus pass or ride plan).",
        ],
        "suggested_interventions": [
            {
                "service_type": "case_management",
                "description": "Housing and transport assistance",
                "frequency": "once a week",
                "duration": "30 minutes",
            },
            {
                "service_type": "peer_support",
                "description": "Peer recovery coach",
                "frequency": "once a week",
                "duration": "30 minutes",
            },
        ],
    },
    {
        "key": "medication-management",
        "name": "Medication management",
        "asam_dimension": 2,
        "description": "Prescribed medication for opioid or alcohol use disorder or a co-occurring "
        "condition that needs adherence support and monitoring.",
        "suggested_goals": ["I want to take my medication the way it helps me."],
        "suggested_objectives": [
            "Take medication as prescribed, at least 90% of doses, confirmed at each visit.",
            "Attend every medication-management appointment.",
        ],
        "suggested_interventions": [
            {
                "service_type": "medication_management",
                "description": "Prescriber visit",
                "frequency": "every 2 weeks",
                "duration": "20 minutes",
            },
        ],
    },
    {
        "key": "legal",
        "name": "Legal",
        "asam_dimension": 6,
        "description": "Court, probation or child-welfare involvement with requirements the patient "
        "must meet.",
        "suggested_goals": ["I want to finish probation and put this behind me."],
        "suggested_objectives": [
            "Meet every court or probation requirement on time, with a signed Part 2 consent for "
            "the reports the court requires.",
        ],
        "suggested_interventions": [
            {
                "service_type": "case_management",
                "description": "Coordination with probation officer",
                "frequency": "monthly",
                "duration": "30 minutes",
            },
        ],
    },
]


def ensure_problem_library(template_model) -> None:
    """Create any missing template of the library (existing ones are left as the clinic edited them)."""
    for order, template in enumerate(PROBLEM_TEMPLATES, start=1):
        template_model.objects.get_or_create(key=template["key"], defaults={**template, "order": order})
