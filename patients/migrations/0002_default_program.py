"""Seed the default program from CLINICAL.md section 1 ("Adult SUD IOP", ASAM level 2.1)."""

from django.db import migrations

from patients.default_program import PROGRAM, ensure_default_program


def seed(apps, schema_editor):
    ensure_default_program(apps.get_model("patients", "Program"), apps.get_model("patients", "Phase"))


def unseed(apps, schema_editor):
    Program = apps.get_model("patients", "Program")
    Program.objects.filter(name=PROGRAM["name"], episodes__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
