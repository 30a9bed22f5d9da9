"""On PostgreSQL: a finalised analyte result is never updated or deleted (a correction is a new
row that amends it, `testing.services.collection.amend_result`). `AnalyteResult.save()` and the
services refuse first, with a message; the trigger makes sure no other path (a bulk update, a
shell, raw SQL, a bug) changes a result a clinician has finalised."""

from django.db import migrations

PROTECT_SQL = """
CREATE OR REPLACE FUNCTION testing_finalised_result_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.finalised_at IS NOT NULL THEN
        RAISE EXCEPTION 'a finalised drug test result is never changed or deleted: amend it';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER testing_analyteresult_finalised_frozen
    BEFORE UPDATE OR DELETE ON testing_analyteresult
    FOR EACH ROW EXECUTE FUNCTION testing_finalised_result_frozen();
"""

UNPROTECT_SQL = """
DROP TRIGGER IF EXISTS testing_analyteresult_finalised_frozen ON testing_analyteresult;
DROP FUNCTION IF EXISTS testing_finalised_result_frozen();
"""


def protect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PROTECT_SQL, params=None)


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNPROTECT_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("testing", "0003_self_reported_use")]

    operations = [migrations.RunPython(protect, unprotect)]
