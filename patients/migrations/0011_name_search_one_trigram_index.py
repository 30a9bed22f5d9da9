"""One trigram index for the patient search by name, over the expression the search filters on
(`patients.filters.SearchName`: UPPER(first || ' ' || last || ' ' || preferred)), replacing the
three per-column indexes of 0008: PostgreSQL would not combine three indexes OR-ed with the MRN
for a common name and scanned the whole table, twice per page (ADR 0009). PostgreSQL only."""

from django.db import migrations

OLD_COLUMNS = ("legal_first_name", "legal_last_name", "preferred_name")
# Must stay the SQL `SearchName` writes, or the planner will not match the index.
EXPRESSION = """(UPPER(("legal_first_name" || ' ' || "legal_last_name" || ' ' || "preferred_name")::text))"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS patient_search_name_trgm ON patients_patient USING gin ({EXPRESSION} gin_trgm_ops)"
    )
    for column in OLD_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS patient_{column}_trgm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in OLD_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS patient_{column}_trgm ON patients_patient "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )
    schema_editor.execute("DROP INDEX IF EXISTS patient_search_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("patients", "0010_break_glass_reason_category")]

    operations = [migrations.RunPython(create, drop)]
