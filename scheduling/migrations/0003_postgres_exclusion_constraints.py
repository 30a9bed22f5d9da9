"""Overlaps the ORM's constraints cannot express, as PostgreSQL exclusion constraints (GiST,
btree_gist for the equality parts). On SQLite (the embedded clinic) they are not created; the
services check the same rules under a row lock on every database (ADR 0010).

- an episode's enrolments in one series never overlap in dates;
- two scheduled occurrences never use one room at the same time;
- two scheduled appointments never use one room, or one staff member, at the same time.
"""

from django.db import migrations

CONSTRAINTS = [
    (
        "scheduling_enrolment",
        "enrolment_no_overlap_per_series_episode",
        "EXCLUDE USING gist (series_id WITH =, episode_id WITH =, "
        "daterange(joined_on, left_on, '[]') WITH &&)",
    ),
    (
        "scheduling_occurrence",
        "occurrence_room_not_double_booked",
        "EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
        "WHERE (status = 'scheduled')",
    ),
    (
        "scheduling_appointment",
        "appointment_room_not_double_booked",
        "EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
        "WHERE (status = 'scheduled' AND room_id IS NOT NULL)",
    ),
    (
        "scheduling_appointment",
        "appointment_staff_not_double_booked",
        "EXCLUDE USING gist (staff_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
        "WHERE (status = 'scheduled')",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_seed_session_types")]

    operations = [migrations.RunPython(create, drop)]
