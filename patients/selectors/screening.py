"""Read queries: screening."""


def intake_card_context(patient) -> dict:
    """What the chart's Intake tab shows for this area."""
    return {}
