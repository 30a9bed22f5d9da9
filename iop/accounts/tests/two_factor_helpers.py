"""Enrol a test user in two-factor sign-in and make codes for them (no phone needed)."""

from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE = "backup01"


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator and one backup code (`BACKUP_CODE`) for `user`."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=static, token=BACKUP_CODE)
    return device


def code_for(device: TOTPDevice) -> str:
    """The code the app shows now (a code is accepted once: travel in time for another)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return str(value).zfill(device.digits)
