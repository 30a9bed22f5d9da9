"""Writes on sites and staff accounts. Security-relevant, so each one is audited."""

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from knox.settings import knox_settings

from iop.accounts.models import Role, Site, User
from iop.accounts.permissions import may_manage_clinic
from iop.audit.models import AuditAction
from iop.audit.services import record_event
from iop.core.concurrency import save_if_unchanged
from iop.core.request_facts import forget

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
    forget()  # the actor's sites changed (iop.core.request_facts)
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
    user.must_change_password = True  # the admin knows it: the person chooses their own
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:  # created by someone else since the check above
        raise ValidationError({"username": "That username is taken."}) from error
    user.sites.set(sites)
    forget()
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
            forget()
            changed.append("sites")
    if changed:
        _audit(actor, AuditAction.UPDATE, user, changed)
    return user


@transaction.atomic
def set_staff_password(*, actor, user: User, password: str) -> None:
    _require_admin(actor)
    validate_password(password, user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    _audit(actor, AuditAction.UPDATE, user, ["password", "must_change_password"])


# --- Sign-in security: API tokens, sessions, passwords, second factor --------------------

OWN_DETAIL_FIELDS = ("first_name", "last_name", "email")
BACKUP_CODE_COUNT = 10


def _require_manages(actor, user: User) -> None:
    """An admin manages the sign-in of staff at their sites (a superuser's only if superuser)."""
    _require_admin(actor)
    if user.is_superuser and not actor.is_superuser:
        raise PermissionError("Only a superuser may change a superuser's sign-in.")
    if not actor.is_superuser and not user.sites.filter(pk__in=actor.sites.values("pk")).exists():
        raise PermissionError("This person does not work at a site you administer.")


def _revoke_tokens_of(user: User) -> int:
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count


def _end_sessions_of(user: User) -> None:
    """Every session of `user` fails its hash check at its next request (see User.session_epoch)."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def issue_api_token(*, user: User) -> tuple[AuthToken, str]:
    """A new expiring token (knox: only its hash is stored). Refused past the per-user limit."""
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    live = AuthToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))
    if limit is not None and live.count() >= limit:
        raise PermissionError(f"You have {limit} API tokens already: revoke one on your profile page first.")
    instance, token = AuthToken.objects.create(user=user)
    record_event(
        actor=user, action=AuditAction.CREATE, object_type="knox.authtoken", object_id=instance.token_key
    )
    return instance, token


@transaction.atomic
def revoke_api_token(*, actor, user: User, token_key: str) -> None:
    """Revoke one token: one's own, or (an admin) one of a person they manage."""
    if actor.pk != user.pk:
        _require_manages(actor, user)
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    if not deleted:
        raise ValidationError("No such token.")
    record_event(actor=actor, action=AuditAction.DELETE, object_type="knox.authtoken", object_id=token_key)


@transaction.atomic
def sign_out_everywhere(*, actor, user: User) -> int:
    """Revoke every API token of `user` and end all their sessions (this one too)."""
    if actor.pk != user.pk:
        _require_manages(actor, user)
    count = _revoke_tokens_of(user)
    _end_sessions_of(user)
    _audit(actor, AuditAction.UPDATE, user, ["api_tokens", "sessions"])
    return count


@transaction.atomic
def update_own_details(*, actor, changes: dict) -> User:
    user = User.objects.select_for_update().get(pk=actor.pk)
    changed = [name for name in OWN_DETAIL_FIELDS if name in changes and getattr(user, name) != changes[name]]
    for name in changed:
        setattr(user, name, changes[name])
    if changed:
        user.full_clean(exclude=["password", "username"])
        user.save(update_fields=changed)
        _audit(actor, AuditAction.UPDATE, user, changed)
    return user


@transaction.atomic
def change_own_password(*, actor, password: str) -> None:
    """A new password (validated); API tokens are revoked (accounts.signals), other sessions end."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    validate_password(password, user)
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    actor.password, actor.must_change_password = user.password, False
    _audit(actor, AuditAction.UPDATE, user, ["password"])


@transaction.atomic
def complete_password_reset(*, user: User, password: str) -> None:
    """The e-mailed reset link's new password (Django's reset view validated it)."""
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    _audit(user, AuditAction.UPDATE, user, ["password", "password_reset"])


@transaction.atomic
def require_password_reset(*, actor, user: User) -> None:
    """The person must choose a new password at next sign-in: their sessions end and their API
    tokens are revoked now."""
    _require_manages(actor, user)
    if user.pk == actor.pk:
        raise ValidationError("Change your own password on your profile page.")
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True
    _revoke_tokens_of(user)
    _end_sessions_of(user)
    _audit(actor, AuditAction.UPDATE, user, ["must_change_password", "api_tokens", "sessions"])


@transaction.atomic
def reset_two_factor(*, actor, user: User) -> None:
    """Remove the person's authenticator and backup codes (a lost phone); they enrol again at
    next sign-in where 2FA is required. Only an admin of all their sites may do it."""
    _require_manages(actor, user)
    if user.pk == actor.pk:
        raise ValidationError("Another admin must reset your own second factor.")
    if not administers_all_sites_of(actor, user):
        raise PermissionError("This person also works at sites you do not administer.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _end_sessions_of(user)
    _audit(actor, AuditAction.UPDATE, user, ["two_factor", "sessions"])


def pending_totp_device(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (made on first call; not audited until
    confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def confirm_totp_device(*, actor, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the enrolling authenticator with a code from it: it replaces any earlier one and
    new backup codes are made (returned once). None when the code is wrong."""
    if device.user_id != actor.pk or device.confirmed:
        raise PermissionError("No such authenticator.")
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) > 8 or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_backup_codes(actor)
    _end_sessions_of(actor)  # other sessions signed in without it; the view keeps this one
    _audit(actor, AuditAction.UPDATE, actor, ["two_factor"])
    return codes


@transaction.atomic
def regenerate_backup_codes(*, actor) -> list[str]:
    if not TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise ValidationError("Set up an authenticator app first.")
    codes = _new_backup_codes(actor)
    _audit(actor, AuditAction.UPDATE, actor, ["backup_codes"])
    return codes
