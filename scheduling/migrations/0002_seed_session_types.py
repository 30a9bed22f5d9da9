"""Seed the session types of issue 8 and an attendance policy for every existing program."""

from django.db import migrations

from scheduling.default_catalogue import SESSION_TYPES, ensure_policy, ensure_session_types


def seed(apps, schema_editor):
    ensure_session_types(apps.get_model("scheduling", "SessionType"))
    policy_model = apps.get_model("scheduling", "AttendancePolicy")
    for program in apps.get_model("patients", "Program").objects.all():
        ensure_policy(policy_model, program)


def unseed(apps, schema_editor):
    apps.get_model("scheduling", "AttendancePolicy").objects.all().delete()
    apps.get_model("scheduling", "SessionType").objects.filter(
        name__in=[name for name, *_ in SESSION_TYPES], series__isnull=True, appointments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial"), ("patients", "0002_default_program")]

    operations = [migrations.RunPython(seed, unseed)]
