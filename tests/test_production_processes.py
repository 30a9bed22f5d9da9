"""The production processes, started by hand with the commands docker-compose.yml defines.

Against a real PostgreSQL (a fresh database of its own, not pytest's test database) and Redis:
migrate as the owner (the migrate service's `setup_database`, which also creates the
application's role), check that role cannot rewrite the audit trail, create a staff user, start
gunicorn, a Celery worker and Celery beat as the application's role, sign in over HTTP, and wait
for the signed checkpoint and the audit-chain verification that beat schedules and the worker
runs.
Skipped on a developer's machine without DATABASE_URL/REDIS_URL; a failure in CI.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import environ
import pytest
import yaml

from conftest import require_service

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"
VENV_BIN = Path(sys.executable).parent
STAFF_USERNAME = "smoke-admin"
STAFF_PASSWORD = "smoke-" + secrets.token_urlsafe(12)
WAIT_SECONDS = 60


# --- docker-compose.yml: the one definition of each process ----------------------------------


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def compose_command(service: str, **replace: str) -> list[str]:
    """The service's command, runnable here: programs from this venv, chosen options replaced."""
    command = [str(part) for part in compose_services()[service]["command"]]
    program = command[0]
    if program == "python":
        command[0] = sys.executable
    elif (VENV_BIN / program).exists():
        command[0] = str(VENV_BIN / program)
    for option, value in replace.items():
        command[command.index(option) + 1] = value
    return command


def test_compose_defines_every_production_process():
    services = compose_services()
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= services.keys()
    assert compose_command("web")[1:2] == ["iop.wsgi:application"]
    assert compose_command("worker")[1:4] == ["-A", "iop", "worker"]
    beat = compose_command("beat")
    assert beat[1:4] == ["-A", "iop", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat
    for name in ("web", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    # Migrations run as the owner; the application connects as a role of its own.
    assert compose_command("migrate")[1:] == ["manage.py", "setup_database"]
    migrate_env = services["migrate"]["environment"]
    assert "POSTGRES_USER" in migrate_env["DATABASE_URL"] and "DATABASE_APP_USER" in migrate_env
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert "POSTGRES_APP_USER" in environment["DATABASE_URL"]
        assert "POSTGRES_USER}" not in environment["DATABASE_URL"]
        assert environment["AUDIT_CHECKPOINT_KEY_FILE"].startswith("/run/secrets/")


def test_env_example_documents_every_variable_the_settings_read():
    settings_source = (BASE_DIR / "iop" / "settings.py").read_text()
    read = set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_source))
    example = (BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert read, "no env(...) calls found in settings.py"
    assert read <= documented, f"undocumented in .env.example: {sorted(read - documented)}"


# --- Services ------------------------------------------------------------------------------


def postgres_server_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def postgres_reachable(url: str | None) -> bool:
    if not url:
        return False
    import psycopg2

    try:
        psycopg2.connect(**connection_kwargs(url, "postgres"), connect_timeout=3).close()
    except psycopg2.Error:
        return False
    return True


def redis_reachable(url: str) -> bool:
    if not url.startswith("redis"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def connection_kwargs(url: str, dbname: str) -> dict:
    config = environ.Env.db_url_config(url)
    return {
        "dbname": dbname,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


@pytest.fixture
def smoke_database():
    """A fresh PostgreSQL database on DATABASE_URL's server, dropped afterwards."""
    import psycopg2

    server = postgres_server_url()
    require_service(
        "PostgreSQL",
        postgres_reachable(server),
        "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/iop to a running server",
    )
    name = f"iop_smoke_{secrets.token_hex(4)}"
    admin = psycopg2.connect(**connection_kwargs(server, "postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_path(server, f"/{name}"), connection_kwargs(server, name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def app_role(smoke_database):
    """A role name of this test's own (roles are server-wide), dropped afterwards."""
    import psycopg2

    role = f"iop_app_{secrets.token_hex(4)}"
    yield role
    admin = psycopg2.connect(**smoke_database[1])
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f'DROP OWNED BY "{role}"')  # its grants, here and on the database
            cursor.execute(f'DROP ROLE "{role}"')
    admin.close()


def assert_app_role_cannot_rewrite_the_audit_trail(database: dict, role: str) -> None:
    """Connected as the application's role: it owns nothing, appends and reads the audit
    tables, and may not UPDATE, DELETE or TRUNCATE them."""
    import psycopg2

    with psycopg2.connect(**{**database, "user": role}) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        assert cursor.fetchone()[0] == 0, "the application's role owns tables"
        cursor.execute("SELECT count(*) FROM audit_auditentry")
        for statement in (
            "UPDATE audit_auditentry SET reason = 'forged'",
            "DELETE FROM audit_auditentry",
            "TRUNCATE audit_auditentry",
            "UPDATE audit_auditcheckpoint SET head_hash = 'x'",
            "DELETE FROM audit_auditcheckpoint",
            "TRUNCATE audit_auditcheckpoint",
            "DELETE FROM audit_auditchainhead",
            "TRUNCATE audit_auditchainhead",
            "DELETE FROM django_migrations",
            "CREATE TABLE app_role_owned (id int)",
        ):
            cursor.execute("SAVEPOINT attempt")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(statement)
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")
        connection.rollback()


@pytest.fixture
def smoke_redis():
    """An empty Redis database (number 5 to 15) on REDIS_URL's server, flushed afterwards."""
    import redis

    url = os.environ.get("REDIS_URL", "")
    require_service(
        "Redis", redis_reachable(url), "set REDIS_URL=redis://127.0.0.1:6379/0 to a running server"
    )
    for number in range(5, 16):
        candidate = with_path(url, f"/{number}")
        client = redis.Redis.from_url(candidate)
        if client.dbsize() == 0:
            break
    else:
        pytest.fail("No empty Redis database between 5 and 15 for the smoke test.")
    try:
        yield candidate
    finally:
        client.flushdb()
        client.close()


# --- Processes -----------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Processes:
    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.started: list[Process] = []

    def run(self, name: str, command: list[str], timeout: int = 300) -> str:
        result = subprocess.run(
            command, cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            pytest.fail(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, name: str, command: list[str]) -> Process:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def check_running(self) -> None:
        for process in self.started:
            if process.popen.poll() is not None:
                pytest.fail(f"{process.name} exited with {process.popen.returncode}:\n{process.output()}")

    def stop_all(self) -> None:
        for process in self.started:
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=5)

    def report(self) -> str:
        return "\n".join(f"----- {p.name} -----\n{p.output()}" for p in self.started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- HTTP ----------------------------------------------------------------------------------


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the test follows redirects itself, to see each one


@dataclass
class Page:
    url: str
    status: int
    location: str
    body: str


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), KeepRedirects()
        )

    def request(self, path: str, data: dict | None = None) -> Page:
        url = urljoin(self.base_url, path)
        body = urlencode(data).encode() if data is not None else None
        headers = {"Referer": url} if data is not None else {}
        try:
            response = self.opener.open(urllib.request.Request(url, data=body, headers=headers), timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            return Page(
                url,
                response.status,
                response.headers.get("Location", ""),
                response.read().decode(errors="replace"),
            )

    def follow(self, page: Page, limit: int = 5) -> Page:
        while page.status in (301, 302, 303, 307, 308) and limit:
            page = self.request(urljoin(page.url, page.location))
            limit -= 1
        return page


def wait_for_healthz(processes: Processes, base_url: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        processes.check_running()
        try:
            with urllib.request.urlopen(urljoin(base_url, "/healthz"), timeout=2) as response:
                assert response.status == 200
                assert response.read().decode().strip() == "ok"
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer within {WAIT_SECONDS} s: {error}")
        time.sleep(0.3)


def run_compose_healthcheck(processes: Processes, port: int) -> None:
    """The web service's Docker health check, run here against gunicorn's port."""
    test = compose_services()["web"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"], test
    command = [sys.executable, *(part.replace(":8000/", f":{port}/") for part in test[2:])]
    processes.run("web health check", command, timeout=30)


def sign_in_over_http(base_url: str) -> None:
    browser = Browser(base_url)
    login = browser.request("/accounts/login/")
    assert login.status == 200, login.body[:2000]
    token = re.search(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"', login.body) or re.search(
        r'value="([^"]+)"\s+name="csrfmiddlewaretoken"', login.body
    )
    assert token, "no CSRF token on the login page"

    # Static files are served by WhiteNoise from the hashed, collected build.
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', login.body)
    assert stylesheet, "the login page links no stylesheet"
    assert browser.request(stylesheet.group(1)).status == 200

    posted = browser.request(
        "/accounts/login/",
        {"username": STAFF_USERNAME, "password": STAFF_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert posted.status == 302, f"login did not redirect ({posted.status}):\n{posted.body[:2000]}"
    assert "/accounts/login/" not in posted.location

    home = browser.follow(browser.request("/"))
    assert home.status == 200, f"home page: {home.status} at {home.url}"
    assert "/accounts/login/" not in home.url
    assert 'name="password"' not in home.body


def wait_for_chain_verification(processes: Processes, database: dict) -> None:
    import psycopg2

    deadline = time.monotonic() + WAIT_SECONDS
    with psycopg2.connect(**database) as connection:
        connection.autocommit = True
        while True:
            processes.check_running()
            with connection.cursor() as cursor:
                cursor.execute("SELECT ok FROM audit_chainverification")
                rows = cursor.fetchall()
            if rows:
                assert rows[0][0] is True, "the audit chain of a fresh database should verify"
                return
            if time.monotonic() > deadline:
                pytest.fail(f"No ChainVerification row within {WAIT_SECONDS} s.")
            time.sleep(0.5)


def wait_for_checkpoint(processes: Processes, database: dict, log: Path) -> None:
    """Beat's checkpoint task, run by the worker as the application's role: in the database
    and in the outside file sink."""
    import psycopg2

    deadline = time.monotonic() + WAIT_SECONDS
    with psycopg2.connect(**database) as connection:
        connection.autocommit = True
        while True:
            processes.check_running()
            with connection.cursor() as cursor:
                cursor.execute("SELECT sequence FROM audit_auditcheckpoint")
                rows = cursor.fetchall()
            if rows and log.exists() and log.read_text().strip():
                assert rows[0][0] >= 1
                return
            if time.monotonic() > deadline:
                pytest.fail(f"No signed checkpoint within {WAIT_SECONDS} s.")
            time.sleep(0.5)


# --- The smoke test ------------------------------------------------------------------------


@pytest.mark.services
def test_production_processes_serve_sign_in_and_run_scheduled_tasks(
    smoke_database, smoke_redis, app_role, tmp_path
):
    database_url, database = smoke_database
    app_database_url = urlunsplit(
        urlsplit(database_url)._replace(netloc=f"{app_role}@{urlsplit(database_url).netloc.split('@')[-1]}")
    )
    key_file = tmp_path / "secrets" / "audit-checkpoint-key.pem"
    checkpoint_log = tmp_path / "checkpoints" / "audit-checkpoints.jsonl"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST_")) and key != "STATIC_MANIFEST"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="iop.settings",
        DATABASE_URL=database_url,
        REDIS_URL=smoke_redis,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        STATIC_MANIFEST="true",
        AUDIT_CHAIN_VERIFY_EVERY_SECONDS="3",
        AUDIT_CHECKPOINT_EVERY_SECONDS="2",
        AUDIT_CHECKPOINT_KEY_FILE=str(key_file),
        AUDIT_CHECKPOINT_SINKS=f"file://{checkpoint_log}",
        PYTHONUNBUFFERED="1",
    )
    owner_env = {**env, "DATABASE_APP_USER": app_role, "DATABASE_APP_PASSWORD": secrets.token_urlsafe(16)}
    env["DATABASE_URL"] = app_database_url  # web, worker and beat: the application's role
    processes = Processes(env, tmp_path)
    try:
        processes.run(
            "generate checkpoint key",
            [sys.executable, "manage.py", "audit_checkpoint_key", "--generate", str(key_file)],
        )
        processes.env = owner_env
        processes.run("migrate (as the owner)", compose_command("migrate"))
        processes.run("migrate again (idempotent)", compose_command("migrate"))
        processes.env = env
        assert_app_role_cannot_rewrite_the_audit_trail(database, app_role)
        processes.run(
            "create staff user",
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from iop.accounts.models import Role, Site, User\n"
                "site = Site.objects.create(name='Smoke Test Site')\n"
                f"user = User.objects.create_user({STAFF_USERNAME!r}, password={STAFF_PASSWORD!r},"
                " role=Role.ADMIN, is_staff=True)\n"
                "user.sites.add(site)\n"
                "from iop.audit.services import record_event\n"
                "record_event(actor=user, action='create', object_type='accounts.user', object_id=user.pk)\n",
            ],
        )
        # As the Dockerfile does at build time: hashed, compressed files for WhiteNoise.
        processes.run("collectstatic", [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"])

        processes.start("web", compose_command("web", **{"--bind": f"127.0.0.1:{port}", "--workers": "2"}))
        processes.start("worker", compose_command("worker"))
        processes.start("beat", compose_command("beat"))

        base_url = f"http://127.0.0.1:{port}"
        wait_for_healthz(processes, base_url)
        run_compose_healthcheck(processes, port)
        sign_in_over_http(base_url)
        wait_for_chain_verification(processes, database)
        wait_for_checkpoint(processes, database, checkpoint_log)
        processes.run("verify_audit_chain", [sys.executable, "manage.py", "verify_audit_chain"])
    except BaseException:
        processes.stop_all()
        print(processes.report())
        raise
    finally:
        processes.stop_all()
