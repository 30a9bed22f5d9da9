"""No search term in a log line: request logs (runserver, Django's 4xx/5xx, gunicorn) drop queries."""

import logging
import re
from pathlib import Path

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from iop.core.log_filters import StripQueryStrings, strip_query_strings

NAME = "Testy"


@pytest.fixture
def captured(caplog):
    """Records of django.server too (it does not propagate to the root logger caplog watches)."""
    server = logging.getLogger("django.server")
    server.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    yield caplog
    server.removeHandler(caplog.handler)


def lines(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /patients/?q=Testy%20McTestface&page=2 HTTP/1.1", "GET /patients/?… HTTP/1.1"),
        ('"GET /api/v1/patients/?q=1990-04-01 HTTP/1.1" 200 5', '"GET /api/v1/patients/?… HTTP/1.1" 200 5'),
        ("Not Found: /nowhere?mrn=DEMO-0001", "Not Found: /nowhere?…"),
        ("http://clinic.example/patients/?q=Testy", "http://clinic.example/patients/?…"),
        ("Is it due? Yes.", "Is it due? Yes."),
    ],
)
def test_query_strings_are_stripped_and_prose_is_kept(text, expected):
    assert strip_query_strings(text) == expected


def test_development_server_request_log_has_no_search_term(captured):
    """runserver's WSGIRequestHandler.log_message, as it logs every request of `make run`."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    handler.client_address = ("127.0.0.1", 50000)
    handler.requestline = f"GET /patients/?q={NAME} HTTP/1.1"
    handler.log_message('"%s" %s %s', handler.requestline, "200", "5120")
    handler.log_message('"%s" %s %s', f"GET /nowhere/?q={NAME} HTTP/1.1", "404", "179")
    records = [r for r in captured.records if r.name == "django.server"]
    assert len(records) == 2
    assert NAME not in lines(captured)
    assert "GET /patients/?… HTTP/1.1" in records[0].getMessage()


@pytest.mark.django_db
def test_not_found_and_bad_request_warnings_have_no_search_term(client, django_user_model, captured):
    client.force_login(django_user_model.objects.create_user("logreader", password="x" * 12))
    client.get(f"/no-such-page/?q={NAME}")
    client.get(f"/api/v1/patients/?q={NAME}&page=x")
    logging.getLogger("django.request").warning("Not Found: %s", f"/anything?q={NAME}")
    logging.getLogger("django.request").error(f"Internal Server Error: /patients/?q={NAME}")
    assert any(r.name == "django.request" for r in captured.records)
    assert NAME not in lines(captured)


def test_every_request_logger_and_the_console_handler_strip_query_strings(settings):
    logging_config = settings.LOGGING
    assert logging_config["filters"]["no_query_strings"]["()"].endswith("StripQueryStrings")
    for name in ("django.server", "django.request", "django.security"):
        assert "no_query_strings" in logging_config["loggers"][name]["filters"]
        assert any(isinstance(f, StripQueryStrings) for f in logging.getLogger(name).filters)
    assert "no_query_strings" in logging_config["handlers"]["console"]["filters"]


def test_gunicorn_access_log_writes_the_path_without_query_or_referrer():
    """gunicorn.conf.py (read from the working directory): %(U)s is the path alone."""
    from gunicorn.config import Config

    source = Path(__file__).resolve().parents[3] / "gunicorn.conf.py"
    namespace: dict = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)  # noqa: S102 (our own file)
    access_format = namespace["access_log_format"]
    assert "%(U)s" in access_format
    assert not re.search(r"%\((r|q|f)\)s", access_format), "request line, query or referrer logged"
    config = Config()
    config.set("access_log_format", access_format)
    assert config.access_log_format == access_format
