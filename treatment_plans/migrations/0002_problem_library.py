"""Seed the library of problem templates (treatment_plans/problem_library.py)."""

from django.db import migrations

from treatment_plans.problem_library import PROBLEM_TEMPLATES, ensure_problem_library


def seed(apps, schema_editor):
    ensure_problem_library(apps.get_model("treatment_plans", "ProblemTemplate"))


def unseed(apps, schema_editor):
    ProblemTemplate = apps.get_model("treatment_plans", "ProblemTemplate")
    Problem = apps.get_model("treatment_plans", "Problem")
    used = Problem.objects.exclude(template=None).values("template_id")
    keys = [template["key"] for template in PROBLEM_TEMPLATES]
    ProblemTemplate.objects.filter(key__in=keys).exclude(pk__in=used).delete()


class Migration(migrations.Migration):
    dependencies = [("treatment_plans", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
