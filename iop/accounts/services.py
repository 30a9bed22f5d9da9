"""Writes on sites and staff accounts. Security-relevant, so each one is audited."""

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from iop.accounts.models import Role, Site, User
from iop.accounts.permissions import may_manage_clinic
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from iop.core.concurrency import save_if_unchanged

SITE_FIELDS = ("name", "timezone", "operating_days", "daily_draw_time", "address", "phone", "is_active")
STAFF_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "role",
    "is_clinical_supervisor",
    "credentials",
    "is_active",
)


def _require_admin(actor) -> None:
    if not may_manage_clinic(actor):
        raise PermissionError("Only admins manage sites and staff.")


def _audit(actor, action, obj, changed_fields) -> None:
    record_event(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.public_id,
        changed_fields=changed_fields,
    )


def _require_own_sites(actor, sites: Iterable[Site]) -> None:
    if actor.is_superuser:
        return
    mine = set(actor.sites.values_list("pk", flat=True))
    foreign = [site.name for site in sites if site.pk not in mine]
    if foreign:
        raise ValidationError({"sites": f"You do not administer: {', '.join(foreign)}."})


@transaction.atomic
def create_site(*, actor, **fields) -> Site:
    """Create a site; its creator administers it."""
    _require_admin(actor)
    site = Site(**{name: value for name, value in fields.items() if name in SITE_FIELDS})
    site.full_clean()
    try:
        with transaction.atomic():
            site.save()
    except IntegrityError as error:  # created by someone else since full_clean
        raise ValidationError({"name": "A site with that name already exists."}) from error
    actor.sites.add(site)
    _audit(actor, AuditAction.CREATE, site, sorted(fields))
    return site


@transaction.atomic
def update_site(*, actor, site: Site, expected_version: int | None, changes: dict) -> Site:
    _require_admin(actor)
    _require_own_sites(actor, [site])
    changed = [name for name in SITE_FIELDS if name in changes and getattr(site, name) != changes[name]]
    for name in changed:
        setattr(site, name, changes[name])
    site.full_clean()
    save_if_unchanged(site, expected_version=expected_version, fields=changed)
    if changed:
        _audit(actor, AuditAction.UPDATE, site, changed)
    return site


def _check_staff_fields(fields: dict) -> None:
    if fields.get("role") not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    if fields.get("is_clinical_supervisor") and fields["role"] != Role.CLINICIAN:
        raise ValidationError({"is_clinical_supervisor": "Only clinicians can be clinical supervisors."})


@transaction.atomic
def create_staff(*, actor, username: str, password: str, sites: Iterable[Site], **fields) -> User:
    _require_admin(actor)
    sites = list(sites)
    if not sites:
        raise ValidationError({"sites": "Choose at least one site."})
    _require_own_sites(actor, sites)
    _check_staff_fields(fields)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken."})
    user = User(username=username, **{name: fields[name] for name in STAFF_FIELDS if name in fields})
    validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # created by someone else since the check above
        raise ValidationError({"username": "That username is taken."}) from error
    user.sites.set(sites)
    _audit(actor, AuditAction.CREATE, user, ["username", "sites", *sorted(fields)])
    return user


def administers_all_sites_of(actor, user: User) -> bool:
    """Role, supervisor flag and active status are global: only an admin of every site the user
    works at (or a superuser) may change them."""
    if actor.is_superuser:
        return True
    return not user.sites.exclude(pk__in=actor.sites.values("pk")).exists()


@transaction.atomic
def update_staff(*, actor, user: User, changes: dict, sites: Iterable[Site] | None = None) -> User:
    """Change a staff account (role, supervisor flag, sites, active). Sites outside the
    actor's administration are kept as they are."""
    _require_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_superuser and not actor.is_superuser:
        raise PermissionError("Only a superuser may change a superuser's account.")
    changed = [name for name in STAFF_FIELDS if name in changes and getattr(user, name) != changes[name]]
    global_changes = set(changed) & {"role", "is_clinical_supervisor", "is_active"}
    if global_changes and not administers_all_sites_of(actor, user):
        raise ValidationError(
            "This person also works at sites you do not administer: only their admins together can "
            "change their role, supervisor flag or active status. You may change their sites you run."
        )
    merged = {name: changes.get(name, getattr(user, name)) for name in STAFF_FIELDS}
    _check_staff_fields(merged)
    if user == actor and (merged["role"] != Role.ADMIN or not merged["is_active"]):
        raise ValidationError("You cannot remove your own admin role or deactivate yourself.")
    for name in changed:
        setattr(user, name, changes[name])
    user.save()
    if sites is not None:
        sites = list(sites)
        _require_own_sites(actor, sites)
        managed = set(Site.objects.all() if actor.is_superuser else actor.sites.all())
        kept = [site for site in user.sites.all() if site not in managed]
        new_sites = set(kept) | set(sites)
        if not new_sites:
            raise ValidationError({"sites": "Choose at least one site."})
        if new_sites != set(user.sites.all()):
            user.sites.set(new_sites)
            changed.append("sites")
    if changed:
        _audit(actor, AuditAction.UPDATE, user, changed)
    return user


@transaction.atomic
def set_staff_password(*, actor, user: User, password: str) -> None:
    _require_admin(actor)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    _audit(actor, AuditAction.UPDATE, user, ["password"])
