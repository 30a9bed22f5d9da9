"""On PostgreSQL: refuse TRUNCATE on the audit tables, make checkpoints append-only, and let
the chain head only move forward to an entry that exists.

Next to 0002's row trigger (no UPDATE or DELETE of entries):
- a statement-level trigger refuses TRUNCATE of entries, checkpoints and the chain head;
- checkpoints refuse UPDATE and DELETE like the entries;
- the head refuses DELETE, and an UPDATE unless it moves forward to the hash of the entry
  now at that sequence (so "move the head back" needs the triggers disabled, which takes the
  table's owner or a superuser; signed checkpoints outside the database catch that).

TRUNCATE passes only in a session that sets `iop.audit_truncate_allowed = on`: the test
database sets it so that Django's test flush works. Only the tables' owner holds the TRUNCATE
privilege (the application's role does not), and the owner could disable the trigger anyway.
"""

from django.db import migrations

PROTECT_SQL = """
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('iop.audit_truncate_allowed', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: TRUNCATE of % refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_checkpoint_no_truncate
    BEFORE TRUNCATE ON audit_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_chain_head_no_truncate
    BEFORE TRUNCATE ON audit_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();

CREATE TRIGGER audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_entry_is_append_only();

CREATE OR REPLACE FUNCTION audit_chain_head_moves_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted';
    END IF;
    IF NEW.id = OLD.id AND NEW.last_sequence = OLD.last_sequence AND NEW.last_hash = OLD.last_hash THEN
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.last_sequence <= OLD.last_sequence OR NOT EXISTS (
        SELECT 1 FROM audit_auditentry
        WHERE sequence = NEW.last_sequence AND entry_hash = NEW.last_hash
    ) THEN
        RAISE EXCEPTION 'the audit chain head only moves forward, to an entry that exists';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_chain_head_forward_only
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_chain_head_moves_forward();
"""

UNPROTECT_SQL = """
DROP TRIGGER IF EXISTS audit_chain_head_forward_only ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_chain_head_moves_forward();
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_truncate();
"""


def protect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PROTECT_SQL, params=None)  # "%" is plpgsql, not a placeholder


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNPROTECT_SQL)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_checkpoints")]

    operations = [migrations.RunPython(protect, unprotect)]
