"""On PostgreSQL: a discharge summary is written once and never changed or deleted (the function
comes from 0003)."""

from django.db import migrations

PROTECT_SQL = """
CREATE TRIGGER treatment_plans_dischargesummary_append_only
    BEFORE UPDATE OR DELETE ON treatment_plans_dischargesummary
    FOR EACH ROW EXECUTE FUNCTION plan_record_append_only();
"""
UNPROTECT_SQL = (
    "DROP TRIGGER IF EXISTS treatment_plans_dischargesummary_append_only ON treatment_plans_dischargesummary;"
)


def protect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PROTECT_SQL, params=None)


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNPROTECT_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("treatment_plans", "0004_discharge_summary")]

    operations = [migrations.RunPython(protect, unprotect)]
