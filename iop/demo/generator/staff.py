"""Sites, and enough staff in every role at every site for the patients they will treat.

One predictable login per role at the first site (`DEMO_LOGINS`); everyone else is
`site2.clinician3` and so on. Every demo login has the password `DEMO_PASSWORD`.
"""

import math
from dataclasses import dataclass
from datetime import time

from django.contrib.auth.hashers import make_password

from iop.accounts.models import Role, Site, User
from iop.demo.generator.clinic import DEMO_PASSWORD, DemoClinic, seeded_uuid
from iop.demo.generator.path import active_share
from patients.models import CareTeamRole

SITE_NAMES = (
    "Northside Recovery Center",
    "Riverside Clinic",
    "Lakeview Outpatient Services",
    "Hillcrest Recovery Center",
    "Eastgate Counseling Center",
    "Westbrook Treatment Center",
    "Maple Grove Clinic",
    "Harbor Point Recovery",
    "Cedar Ridge Outpatient",
    "Southfield Recovery Center",
)
SITE_TIMEZONE = "America/New_York"
SITE_OPERATING_DAYS = [1, 2, 3, 4, 5]
SITE_DAILY_DRAW_TIME = time(5, 30)
SITE_STATES = ("NY", "NJ", "PA", "MA", "CT")  # somewhere on Eastern time


@dataclass(frozen=True)
class DemoLogin:
    label: str
    username: str


# One predictable login per role, all at the first site (admin: every site).
DEMO_LOGINS = (
    DemoLogin("Clinician", "clinician"),
    DemoLogin("Clinical supervisor", "supervisor"),
    DemoLogin("Case manager", "casemanager"),
    DemoLogin("Medical staff", "medical"),
    DemoLogin("Peer support", "peersupport"),
    DemoLogin("Admin", "admin"),
)
ADMIN_USERNAME = "admin"
SUPERVISOR_USERNAME = "supervisor"
SUPERVISOR_SLOT = 1  # each site's second clinician is its clinical supervisor


@dataclass(frozen=True)
class Staffing:
    """How many people of one role a site has: at least `minimum`, one per `patients_each`."""

    role: Role
    team_role: CareTeamRole
    username_stem: str
    minimum: int
    patients_each: int
    credentials: tuple[str, ...]


STAFFING = (
    Staffing(
        Role.CLINICIAN, CareTeamRole.PRIMARY_CLINICIAN, "clinician", 3, 25, ("LADC", "LCSW", "LPC", "LMHC")
    ),
    Staffing(Role.CASE_MANAGER, CareTeamRole.CASE_MANAGER, "casemanager", 2, 40, ("BSW", "CCM")),
    Staffing(Role.MEDICAL, CareTeamRole.MEDICAL, "medical", 1, 100, ("RN", "NP", "MD")),
    Staffing(Role.PEER_SUPPORT, CareTeamRole.PEER_SUPPORT, "peersupport", 1, 60, ("CPRS",)),
)


def site_name(index: int) -> str:
    if index < len(SITE_NAMES):
        return SITE_NAMES[index]
    return f"{SITE_NAMES[index % len(SITE_NAMES)]} {index // len(SITE_NAMES) + 1}"


def staff_username(site_index: int, staffing: Staffing, slot: int) -> str:
    """Site 1's first person in each role has the short demo login; the rest `site2.clinician3`."""
    if staffing.role == Role.CLINICIAN and slot == SUPERVISOR_SLOT:
        return SUPERVISOR_USERNAME if site_index == 0 else f"site{site_index + 1}.{SUPERVISOR_USERNAME}"
    if site_index == 0 and slot == 0:
        return staffing.username_stem
    return f"site{site_index + 1}.{staffing.username_stem}{slot + 1}"


class SitesAndStaff:
    """Sites, and enough staff in every role at every site for the patients they will treat."""

    def build(self, clinic: DemoClinic) -> None:
        clinic.site_list = [self._site(clinic, index) for index in range(clinic.sites)]
        self._staff(clinic)

    def _site(self, clinic: DemoClinic, index: int) -> Site:
        fake = clinic.faker("site", index)
        site, created = Site.objects.get_or_create(
            name=site_name(index),
            defaults={
                "timezone": SITE_TIMEZONE,
                "operating_days": list(SITE_OPERATING_DAYS),
                "daily_draw_time": SITE_DAILY_DRAW_TIME,
                "address": f"{fake.street_address()}, {fake.city()}, {fake.random_element(SITE_STATES)}",
                "phone": f"(617) 555-01{index % 100:02d}",  # 555-0100..0199 are reserved for fiction
            },
        )
        clinic.created["sites"] += created
        return site

    def _staff(self, clinic: DemoClinic) -> None:
        planned: list[tuple[User, list[Site]]] = []
        usernames_by_post: dict[tuple[int, Role], list[str]] = {}
        for site_index, site in enumerate(clinic.site_list):
            active_patients = math.ceil(clinic.patients_at_site(site_index) * active_share(clinic.path_cycle))
            for staffing in STAFFING:
                headcount = max(staffing.minimum, math.ceil(active_patients / staffing.patients_each))
                usernames = [staff_username(site_index, staffing, slot) for slot in range(headcount)]
                usernames_by_post[(site_index, staffing.role)] = usernames
                planned += [
                    (self._person(clinic, staffing, slot, name), [site])
                    for slot, name in enumerate(usernames)
                ]
        admin = User(
            public_id=seeded_uuid(clinic.rng("staff", ADMIN_USERNAME)),
            username=ADMIN_USERNAME,
            role=Role.ADMIN,
        )
        self._name(clinic, admin)
        planned.append((admin, clinic.site_list))

        all_usernames = [user.username for user, _ in planned]
        existing = set(User.objects.filter(username__in=all_usernames).values_list("username", flat=True))
        new = [(user, sites) for user, sites in planned if user.username not in existing]
        if new:
            password_hash = make_password(DEMO_PASSWORD)  # hashed once: Argon2 is slow on purpose
            for user, _ in new:
                user.password = password_hash
                # The published demo password signs in without a second factor (README).
                user.two_factor_exempt = True
            User.objects.bulk_create([user for user, _ in new])
            new_usernames = [user.username for user, _ in new]
            saved = dict(User.objects.filter(username__in=new_usernames).values_list("username", "pk"))
            User.sites.through.objects.bulk_create(
                [
                    User.sites.through(user_id=saved[user.username], site_id=site.pk)
                    for user, sites in new
                    for site in sites
                ],
                ignore_conflicts=True,
            )
            clinic.created["staff"] += len(new)

        clinic.users_by_username = {
            user.username: user for user in User.objects.filter(username__in=all_usernames)
        }
        clinic.staff = {
            post: [clinic.users_by_username[name] for name in usernames]
            for post, usernames in usernames_by_post.items()
        }

    def _person(self, clinic: DemoClinic, staffing: Staffing, slot: int, username: str) -> User:
        rng = clinic.rng("staff", username)
        user = User(
            public_id=seeded_uuid(rng),
            username=username,
            role=staffing.role,
            is_clinical_supervisor=staffing.role == Role.CLINICIAN and slot == SUPERVISOR_SLOT,
            credentials=rng.choice(staffing.credentials),
        )
        self._name(clinic, user)
        return user

    def _name(self, clinic: DemoClinic, user: User) -> None:
        fake = clinic.faker("staff", user.username)
        user.first_name = fake.first_name()
        user.last_name = fake.last_name()
        user.email = f"{user.username}@example.test"
