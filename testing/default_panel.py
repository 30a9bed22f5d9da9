"""The default point-of-care panel and the default program's testing policies, as data.

Cutoffs (ng/mL) from CLINICAL.md section 5: the HHS workplace panel where it has one (initial /
confirmatory), typical clinical cup cutoffs otherwise. A clinic changes them in the admin
screens: devices and labs differ, and each result stores the cutoff it was read against.
"""

from decimal import Decimal

PANEL = {
    "name": "Point-of-care 10-panel cup",
    "specimen_type": "urine",
    "description": "Presumptive screen; positives go to the lab for confirmation (LC-MS/MS).",
}
ANALYTES = [
    # code, name, screen cutoff, confirmation cutoff, explained by (patients.MedicationClass)
    ("thc", "Cannabinoids (THC-COOH)", "50", "15", []),
    ("coc", "Cocaine (benzoylecgonine)", "150", "100", []),
    ("opi", "Opiates (codeine/morphine)", "2000", "2000", ["opioid_analgesic"]),
    ("oxy", "Oxycodone/oxymorphone", "100", "100", ["opioid_analgesic"]),
    ("fty", "Fentanyl", "1", "1", ["opioid_analgesic"]),
    ("amp", "Amphetamine/methamphetamine", "500", "250", ["stimulant"]),
    ("bzo", "Benzodiazepines", "300", "200", ["benzodiazepine"]),
    ("bup", "Buprenorphine", "10", "5", ["buprenorphine"]),
    ("mtd", "Methadone", "300", "100", ["methadone"]),
    ("etg", "Ethyl glucuronide (alcohol)", "500", "500", []),
]
# Per phase order of the default program (patients.default_program): ramp, observed, check-in.
POLICIES = {1: {"ramp": 2, "observed_collection": False}, 2: {"ramp": 2, "observed_collection": False}}


def ensure_default_panel(panel_model, analyte_model):
    panel, _ = panel_model.objects.get_or_create(name=PANEL["name"], defaults=PANEL)
    for position, (code, name, screen, confirmation, explained_by) in enumerate(ANALYTES):
        analyte_model.objects.get_or_create(
            panel=panel,
            code=code,
            defaults={
                "name": name,
                "screen_cutoff": Decimal(screen),
                "confirmation_cutoff": Decimal(confirmation),
                "explained_by": explained_by,
                "position": position,
                "detection_window_days": 4 if code in {"thc", "etg"} else 3,
            },
        )
    return panel


def ensure_default_policies(program, panel, policy_model):
    for phase in program.phases.all():
        if phase.order in POLICIES:
            policy_model.objects.get_or_create(
                phase=phase, defaults={"panel": panel, **POLICIES[phase.order]}
            )
