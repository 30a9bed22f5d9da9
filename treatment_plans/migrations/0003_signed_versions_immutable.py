"""On PostgreSQL: a plan version that is not a draft never changes, nor does its content; signatures
and reviews are append-only. The services refuse these changes first (with a message); the
triggers make sure no other path (a shell, a bulk update, a bug) can do it either.

- plan content (problems, goals, objectives, interventions) is inserted, updated or deleted only
  while its version is a draft;
- a version that is not a draft changes only its status, forward (awaiting signatures -> active
  or superseded, active -> superseded), with its activation or superseding time; it is never
  deleted;
- a signature is added only to a version awaiting signatures, and never updated or deleted;
- reviews and their objective progress are never updated or deleted.
"""

from django.db import migrations

CONTENT_TABLES = [
    "treatment_plans_problem",
    "treatment_plans_goal",
    "treatment_plans_objective",
    "treatment_plans_intervention",
]
APPEND_ONLY_TABLES = ["treatment_plans_review", "treatment_plans_objectiveprogress"]

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION plan_content_only_in_drafts() RETURNS trigger AS $$
DECLARE
    version_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO version_status FROM treatment_plans_planversion WHERE id = OLD.version_id;
        IF version_status IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'plan content of a % version never changes (%)', version_status, TG_TABLE_NAME;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO version_status FROM treatment_plans_planversion WHERE id = NEW.version_id;
        IF version_status IS DISTINCT FROM 'draft' THEN
            RAISE EXCEPTION 'plan content is added only to a draft version, not a % one (%)',
                version_status, TG_TABLE_NAME;
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION plan_version_frozen_unless_draft() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'a % plan version is never deleted', OLD.status;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.public_id, NEW.plan_id, NEW.number, NEW.based_on_id, NEW.change_summary,
        NEW.created_by_id, NEW.submitted_at, NEW.content_digest, NEW.created_at)
       IS DISTINCT FROM
       (OLD.id, OLD.public_id, OLD.plan_id, OLD.number, OLD.based_on_id, OLD.change_summary,
        OLD.created_by_id, OLD.submitted_at, OLD.content_digest, OLD.created_at) THEN
        RAISE EXCEPTION 'a plan version awaiting signatures or signed never changes';
    END IF;
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'awaiting_signatures' AND NEW.status IN ('active', 'superseded'))
        OR (OLD.status = 'active' AND NEW.status = 'superseded')
    ) THEN
        RAISE EXCEPTION 'a plan version does not go from % to %', OLD.status, NEW.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION plan_signature_on_awaiting_version() RETURNS trigger AS $$
DECLARE
    version_status text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'a plan signature is never changed or deleted';
    END IF;
    SELECT status INTO version_status FROM treatment_plans_planversion WHERE id = NEW.version_id;
    IF version_status IS DISTINCT FROM 'awaiting_signatures' THEN
        RAISE EXCEPTION 'only a version awaiting signatures is signed, not a % one', version_status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION plan_record_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER plan_version_frozen
    BEFORE UPDATE OR DELETE ON treatment_plans_planversion
    FOR EACH ROW EXECUTE FUNCTION plan_version_frozen_unless_draft();
CREATE TRIGGER plan_signature_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON treatment_plans_signature
    FOR EACH ROW EXECUTE FUNCTION plan_signature_on_awaiting_version();
"""


def _protect_sql() -> str:
    parts = [FUNCTIONS_SQL]
    for table in CONTENT_TABLES:
        parts.append(
            f"CREATE TRIGGER {table}_only_in_drafts BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION plan_content_only_in_drafts();"
        )
    for table in APPEND_ONLY_TABLES:
        parts.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION plan_record_append_only();"
        )
    return "\n".join(parts)


def _unprotect_sql() -> str:
    parts = [f"DROP TRIGGER IF EXISTS {table}_only_in_drafts ON {table};" for table in CONTENT_TABLES]
    parts += [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in APPEND_ONLY_TABLES]
    parts += [
        "DROP TRIGGER IF EXISTS plan_signature_append_only ON treatment_plans_signature;",
        "DROP TRIGGER IF EXISTS plan_version_frozen ON treatment_plans_planversion;",
        "DROP FUNCTION IF EXISTS plan_record_append_only();",
        "DROP FUNCTION IF EXISTS plan_signature_on_awaiting_version();",
        "DROP FUNCTION IF EXISTS plan_version_frozen_unless_draft();",
        "DROP FUNCTION IF EXISTS plan_content_only_in_drafts();",
    ]
    return "\n".join(parts)


def protect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_protect_sql(), params=None)  # "%" is plpgsql, not a placeholder


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_unprotect_sql(), params=None)


class Migration(migrations.Migration):
    dependencies = [("treatment_plans", "0002_problem_library")]

    operations = [migrations.RunPython(protect, unprotect)]
