"""Shared fixtures: the personas of STYLE.md and guards for real services.

Personas, in one clinic with two sites:
- clinician_on_team: primary clinician of `patient` (site A)
- clinician_elsewhere: a clinician at site A who is not on the patient's care team
- case_manager, medical, peer_support: on the patient's care team
- supervisor: a clinician at site A flagged clinical supervisor (sees site A)
- admin: admin of site A
- admin_other_site: admin of site B only
- anonymous: nobody signed in
"""

import os
import shutil
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from iop.accounts.models import Role
from iop.accounts.tests.factories import TEST_PASSWORD, SiteFactory, UserFactory


def require_service(name: str, available: bool, how: str = "") -> None:
    """Skip a test whose service is missing on a developer's machine; fail it in CI."""
    if available:
        return
    message = f"{name} is not available{': ' + how if how else ''}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}. CI must provide it.")
    pytest.skip(message)


CHROMIUM = "/usr/bin/chromium"


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@dataclass
class Clinic:
    site_a: object
    site_b: object
    clinician_on_team: object
    clinician_elsewhere: object
    case_manager: object
    medical: object
    peer_support: object
    supervisor: object
    admin: object
    admin_other_site: object
    patient: object
    episode: object

    def persona(self, name: str):
        return None if name == "anonymous" else getattr(self, name)


PERSONAS = [
    "clinician_on_team",
    "clinician_elsewhere",
    "case_manager",
    "medical",
    "peer_support",
    "supervisor",
    "admin",
    "admin_other_site",
    "anonymous",
]
# Who may open the care-team patient's chart (everyone else gets 404 or the login page).
SEES_PATIENT = {"clinician_on_team", "case_manager", "medical", "peer_support", "supervisor", "admin"}
# Minimum necessary (docs/decisions/0008-minimum-necessary.md): of those, who reads instrument
# results, ASAM ratings, consent contents and alert details. Peer support gets 403 on those pages
# and API lists, 404 on API details.
READS_CLINICAL_DETAIL = SEES_PATIENT - {"peer_support"}


@pytest.fixture
def clinic(db) -> Clinic:
    from patients.models import CareTeamRole
    from patients.tests.factories import PatientFactory, admit

    site_a = SiteFactory(name="Northside")
    site_b = SiteFactory(name="Riverside")
    make = lambda username, role, sites, **kw: UserFactory(  # noqa: E731
        username=username, role=role, sites=sites, **kw
    )
    clinic = Clinic(
        site_a=site_a,
        site_b=site_b,
        clinician_on_team=make("alice", Role.CLINICIAN, [site_a]),
        clinician_elsewhere=make("bob", Role.CLINICIAN, [site_a]),
        case_manager=make("carol", Role.CASE_MANAGER, [site_a]),
        medical=make("mia", Role.MEDICAL, [site_a]),
        peer_support=make("pete", Role.PEER_SUPPORT, [site_a]),
        supervisor=make("sam", Role.CLINICIAN, [site_a], is_clinical_supervisor=True),
        admin=make("ada", Role.ADMIN, [site_a]),
        admin_other_site=make("otto", Role.ADMIN, [site_b]),
        patient=None,
        episode=None,
    )
    clinic.patient = PatientFactory(site=site_a, legal_first_name="Testy", legal_last_name="McTestface")
    clinic.episode = admit(
        clinic.patient,
        team={
            CareTeamRole.PRIMARY_CLINICIAN: clinic.clinician_on_team,
            CareTeamRole.CASE_MANAGER: clinic.case_manager,
            CareTeamRole.MEDICAL: clinic.medical,
            CareTeamRole.PEER_SUPPORT: clinic.peer_support,
        },
    )
    return clinic


@pytest.fixture
def login(client):
    """Sign a persona in with the test client (None stays anonymous)."""

    def sign_in(user):
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


__all__ = [
    "PERSONAS",
    "READS_CLINICAL_DETAIL",
    "SEES_PATIENT",
    "TEST_PASSWORD",
    "Clinic",
    "chromium_available",
    "require_service",
]


# --- Browser journeys (Playwright driving Debian's chromium) ------------------------------

BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium: `playwright install` cannot run here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": BROWSER_ARGS}


@pytest.fixture
def journey_page(request):
    """A Playwright page, or a skip (locally) / failure (CI) when chromium is missing."""
    require_service("Debian's chromium", chromium_available(), "apt-get install chromium")
    return request.getfixturevalue("page")


@pytest.fixture
def query_count():
    """`query_count(fn)`: how many database queries `fn()` makes (for constant-count tests)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(fn) -> int:
        with CaptureQueriesContext(connection) as captured:
            fn()
        return len(captured.captured_queries)

    return count


# --- Audit trail on PostgreSQL --------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let Django's flush between transactional tests TRUNCATE the audit tables, whose trigger
    refuses TRUNCATE otherwise (iop/audit/migrations/0004): only in the test database."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {name} SET iop.audit_truncate_allowed = 'on'")
            connection.close()  # new connections pick the setting up


# --- Two-factor sign-in (auth) ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _two_factor_policy(request, settings):
    """Tests sign personas in with force_login or their password only, so by default no role is
    *required* to enrol (anyone with a device is still asked for a code). A test marked
    `@pytest.mark.two_factor_policy` keeps the installation's policy, which it may then set."""
    if request.node.get_closest_marker("two_factor_policy") is None:
        settings.TWO_FACTOR_REQUIRED_FOR = "nobody"


# --- Hypothesis on a shared, loaded machine ------------------------------------------------
# Property tests judge rules, not speed: a slow draw on a busy CI machine is not a failure.
hypothesis_settings.register_profile(
    "iop", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
hypothesis_settings.load_profile("iop")
