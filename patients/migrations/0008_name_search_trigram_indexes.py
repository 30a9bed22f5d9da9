"""Trigram indexes for the patient search by name (`UPPER(col) LIKE '%WORD%'`, Django's
`icontains` on PostgreSQL). PostgreSQL only: on SQLite (the embedded clinic) it does nothing."""

from django.db import migrations

COLUMNS = ("legal_first_name", "legal_last_name", "preferred_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS patient_{column}_trgm ON patients_patient "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS patient_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_bench_access_indexes")]

    operations = [migrations.RunPython(create, drop)]
