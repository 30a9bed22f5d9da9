"""A synthetic IOP clinic for demos and the benchmark: obviously fake, deterministic, idempotent.

- Obviously fake: every patient's MRN starts with ``DEMO`` (``DEMO000001``, ...), staff e-mail
  addresses end in ``@example.test``, phone numbers are in the fictional 555-01xx range.
- Deterministic: a fixed seed. Each patient draws from its own random streams keyed by its
  index, so patient 17 is the same person whatever ``--patients`` says; dates are relative to
  the day of the run (``today``), and the few "hours ago" times (open referrals, today's
  alerts) to its moment (``now``).
- Idempotent: natural keys (site names, usernames, MRNs; then "this patient has none yet" for
  each area). A second run creates nothing, and a run with more patients adds only the
  missing ones.
- Realistic where the app reads it: referrals, consents, screening results, availability and
  medications carry the field values the real services would store; instrument totals, bands
  and flags come from the scoring engine and ASAM levels from the rule, never invented.
- Fast: everything is written with ``bulk_create`` in batches, without per-row audit entries;
  the whole seeding is one transaction recorded as ONE audit event (``demo.seed``).

The clinic is built by parts run in order (`seed.PARTS`), one module each, each adding one area
of the data model:

- `staff`: sites and their staff (`SitesAndStaff`);
- `episodes`: patients, episodes, care teams (`PatientsAndEpisodes`);
- `referrals`: closed referrals of admitted patients, the open intake queue (`Referrals`);
- `consents`: consents to treatment and 42 CFR Part 2 consents (`Consents`);
- `screening`: instruments and ASAM assessments (`Screening`);
- `availability`, `medications`: weekly windows and prescriptions;
- `alerts`: the demo clinician's safety alerts, with the PHQ-9 that raised them;
- `drug_tests`: the testing panel and policies, the last weeks of daily draws, collections,
  results and reviews (`DrugTesting`).

Shared pieces: `clinic` (the `DemoClinic` being built, constants), `path` (where each patient
is on the path), `roster` (the demo patients as later parts read them, batch by batch),
`story` (each patient's clinical story) and `answers` (instrument answers and their scoring).
A later feature (schedules, drug tests, treatment plans) adds a module with a part that reads
what the earlier parts made (`roster`, `DemoClinic.staff_for`) and appends it to `PARTS`.
"""

from iop.demo.generator.clinic import (
    DEMO_MRN_PREFIX,
    DEMO_PASSWORD,
    DEMO_PROGRAM_NAME,
    DEMO_SEED,
    DEMO_URL,
    MAX_DEMO_PATIENTS,
    DemoClinic,
    DemoPart,
    DemoSetupError,
    demo_mrn,
    demo_patients,
)
from iop.demo.generator.seed import PARTS, SeedReport, seed_demo_clinic
from iop.demo.generator.staff import DEMO_LOGINS, DemoLogin

__all__ = [
    "DEMO_LOGINS",
    "DEMO_MRN_PREFIX",
    "DEMO_PASSWORD",
    "DEMO_PROGRAM_NAME",
    "DEMO_SEED",
    "DEMO_URL",
    "MAX_DEMO_PATIENTS",
    "PARTS",
    "DemoClinic",
    "DemoLogin",
    "DemoPart",
    "DemoSetupError",
    "SeedReport",
    "demo_mrn",
    "demo_patients",
    "seed_demo_clinic",
]
