"""No search term, name, date of birth or MRN in a log line: request logs lose their query strings.

A patient search is `GET /patients/?q=<name or MRN or date of birth>`; the development server's
request log (django.server), Django's 4xx/5xx warnings (django.request) and any other line that
quotes a URL would otherwise write it out. `StripQueryStrings` (settings.LOGGING, on those
loggers and on the console handler) replaces every `?query` inside a logged URL with `?…`:
the path stays (useful for debugging), the parameters go. Gunicorn's access log is set up the
same way in gunicorn.conf.py (path only, no referrer); Celery logs task names, ids and return
values, which are ids (STYLE.md: task arguments are ids, never PHI).
"""

import logging
import re

REDACTED = "?…"
# A "?" that starts a query string: after a URL path (or at a quote/space boundary), up to the
# next whitespace or quote. `/patients/?q=Ada%20Lovelace&page=2` -> `/patients/?…`.
QUERY_STRING = re.compile(r"(?<=[\w/.%~-])\?[^\s\"'<>]+")


def strip_query_strings(text: str) -> str:
    return QUERY_STRING.sub(REDACTED, text)


def _strip(value):
    if isinstance(value, str):
        return strip_query_strings(value)
    if isinstance(value, bytes):
        return strip_query_strings(value.decode("utf-8", "replace"))
    return value


class StripQueryStrings(logging.Filter):
    """Rewrites the record in place (message and arguments), so every handler sees it clean."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = strip_query_strings(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _strip(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_strip(value) for value in record.args)
        return True
