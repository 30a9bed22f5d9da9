"""The migrate service's command: check, migrate as the owner, then (re)grant the app's role.

    DATABASE_URL=postgres://iop:...@postgres/iop          (the owner: owns every table)
    DATABASE_APP_USER=iop_app DATABASE_APP_PASSWORD=...   (the role web, worker and beat use)
    python manage.py setup_database

The application's role owns no table. It may read and write the clinic's tables, but on the
audit tables it holds INSERT and SELECT only (plus UPDATE of the chain head's two columns,
which a trigger lets move forward only), and TRUNCATE on nothing. So a bug or an intruder in
the application cannot rewrite the trail; only the owner could, and the signed checkpoints
outside the database show it if they do. Idempotent: run after every migration (new tables get
their grants); the password is reset to the configured one.
"""

from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from iop.audit.checks import TAG

# The audit tables: INSERT and SELECT only.
APPEND_ONLY_TABLES = ["audit_auditentry", "audit_auditcheckpoint"]
HEAD_TABLE = "audit_auditchainhead"
READ_ONLY_TABLES = ["django_migrations"]


def grant_statements(role: str, password: str, database: str, quote) -> list[tuple[str, list]]:
    who = quote(role)
    restricted = ", ".join(quote(table) for table in [*APPEND_ONLY_TABLES, HEAD_TABLE, *READ_ONLY_TABLES])
    return [
        (
            f"ALTER ROLE {who} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
            "PASSWORD %s",
            [password],
        ),
        (f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}", []),
        (f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {who}", []),
        (f"REVOKE CREATE ON SCHEMA public FROM {who}", []),
        (f"GRANT CONNECT ON DATABASE {quote(database)} TO {who}", []),
        (f"GRANT USAGE ON SCHEMA public TO {who}", []),
        (f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {who}", []),
        (f"REVOKE UPDATE, DELETE, TRUNCATE ON {restricted} FROM {who}", []),
        (f"REVOKE INSERT ON {', '.join(quote(t) for t in READ_ONLY_TABLES)} FROM {who}", []),
        (f"GRANT UPDATE (last_sequence, last_hash) ON {quote(HEAD_TABLE)} TO {who}", []),
        (f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}", []),
    ]


def grant_app_role(role: str, password: str) -> None:
    """Create the application's role if missing and give it exactly its privileges."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {quote(role)} LOGIN")
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.rolname = %s AND n.nspname = 'public'",
            [role],
        )
        if cursor.fetchone()[0]:
            raise CommandError(
                f"The application role {role} owns tables: it must own none. Run migrations as the owner "
                f"and give them back (REASSIGN OWNED BY {role} TO <owner>)."
            )
        if role == connection.settings_dict["USER"]:
            raise CommandError("DATABASE_APP_USER must differ from the owner that runs the migrations.")
        for statement, params in grant_statements(role, password, connection.settings_dict["NAME"], quote):
            cursor.execute(statement, params)


class Command(BaseCommand):
    help = (
        "Run the audit trail's production checks, migrate (as the database owner), then create or "
        "update the application's database role (DATABASE_APP_USER) and its grants."
    )

    def handle(self, *args, **options):
        problems = [
            message
            for message in checks.run_checks(tags=[TAG], include_deployment_checks=True)
            if message.level >= checks.ERROR
        ]
        if problems:
            raise CommandError(
                "\n".join(f"{message.id}: {message.msg} ({message.hint})" for message in problems)
            )
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        role = settings.DATABASE_APP_USER
        if not role:
            self.stdout.write("DATABASE_APP_USER is not set: no application role to grant.")
            return
        if connection.vendor != "postgresql":
            raise CommandError("DATABASE_APP_USER needs PostgreSQL.")
        if not settings.DATABASE_APP_PASSWORD:
            raise CommandError("DATABASE_APP_PASSWORD must be set with DATABASE_APP_USER.")
        grant_app_role(role, settings.DATABASE_APP_PASSWORD)
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {role}: owns no table; INSERT and SELECT only on {', '.join(APPEND_ONLY_TABLES)}; "
                f"the chain head moves forward only."
            )
        )
