"""Whatever path changes a password or deactivates an account (our services, Django's reset
views, the Django admin), the person's API tokens are revoked; a deactivation also ends their
sessions, so neither comes back on reactivation."""

from django.contrib.auth.signals import user_logged_in
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from knox.models import AuthToken

from iop.accounts.models import User
from iop.accounts.two_factor import NO_DEVICE_SESSION_KEY, has_second_factor

WATCHED = {"password", "is_active"}


@receiver(pre_save, sender=User, dispatch_uid="accounts_remember_sign_in_state")
def remember_sign_in_state(sender, instance, update_fields=None, raw=False, **kwargs):
    instance._sign_in_state_before = None
    if raw or instance.pk is None or (update_fields is not None and not WATCHED & set(update_fields)):
        return
    instance._sign_in_state_before = (
        User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    )


@receiver(post_save, sender=User, dispatch_uid="accounts_revoke_on_password_or_deactivation")
def revoke_on_password_change_or_deactivation(sender, instance, created=False, raw=False, **kwargs):
    before = getattr(instance, "_sign_in_state_before", None)
    instance._sign_in_state_before = None
    if raw or created or not before:
        return
    deactivated = before["is_active"] and not instance.is_active
    if before["password"] != instance.password or deactivated:
        AuthToken.objects.filter(user=instance).delete()
    if deactivated:
        User.objects.filter(pk=instance.pk).update(session_epoch=F("session_epoch") + 1)


@receiver(user_logged_in, dispatch_uid="accounts_remember_second_factor")
def remember_second_factor(sender, request, user, **kwargs):
    """Whether the person has a second factor, looked up once per browser sign-in."""
    if request is None or request.path.startswith("/api/") or not hasattr(request, "session"):
        return
    request.session[NO_DEVICE_SESSION_KEY] = not has_second_factor(user)
