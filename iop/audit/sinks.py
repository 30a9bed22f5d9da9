"""Where signed checkpoints go outside the database: an append-only file, syslog or HTTP.

`AUDIT_CHECKPOINT_SINKS` lists them as URLs:

- `file:///var/log/iop/audit-checkpoints.jsonl`: one JSON line per checkpoint, appended
  (put it on storage the database's owner cannot rewrite: another host, a WORM bucket, a
  `chattr +a` file);
- `syslog:///dev/log`, `syslog://logs.example.org:514` (UDP), `syslog+tcp://host:6514`: one
  message per checkpoint to a syslog server (facility `authpriv`);
- `https://collector.example.org/checkpoints`: a POST of the JSON line, with
  `Authorization: Bearer $AUDIT_CHECKPOINT_HTTP_TOKEN` when that is set; any 2xx is success.

A write that fails raises `CheckpointSinkError`, so the checkpoint is not recorded as made
and the task retries.
"""

import fcntl
import logging
import logging.handlers
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SYSLOG_TAG = "iop-audit-checkpoint"
HTTP_TIMEOUT_SECONDS = 10


class CheckpointSinkError(Exception):
    """A checkpoint could not be written to one of the outside sinks."""


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    """The standard handler, except that a failed send raises instead of printing."""

    def handleError(self, record):  # noqa: N802 (logging's name)
        raise  # noqa: PLE0704 (called from the handler's except block: re-raises that error)


@dataclass(frozen=True)
class Sink:
    url: str
    kind: str  # file, syslog, http
    path: Path | None = None
    address: object = None
    socktype: int = socket.SOCK_DGRAM

    def __str__(self) -> str:
        return self.url

    def write(self, line: str) -> None:
        try:
            {"file": self._write_file, "syslog": self._write_syslog, "http": self._write_http}[self.kind](
                line
            )
        except (OSError, urllib.error.URLError) as error:
            raise CheckpointSinkError(f"{self.kind} sink {self.url}: {error}") from error

    def _write_file(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            os.write(descriptor, (line + "\n").encode("ascii"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _write_syslog(self, line: str) -> None:
        handler = _RaisingSysLogHandler(
            address=self.address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV, socktype=self.socktype
        )
        handler.ident = f"{SYSLOG_TAG}: "
        handler.append_nul = False
        try:
            handler.emit(logging.LogRecord(SYSLOG_TAG, logging.WARNING, __file__, 0, line, None, None))
        finally:
            handler.close()

    def _write_http(self, line: str) -> None:
        headers = {"Content-Type": "application/json"}
        if settings.AUDIT_CHECKPOINT_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.AUDIT_CHECKPOINT_HTTP_TOKEN}"
        request = urllib.request.Request(self.url, data=line.encode("ascii"), headers=headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310 (http(s) only)
            if not 200 <= response.status < 300:
                raise OSError(f"answered {response.status}")


def parse_sink(url: str) -> Sink:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ImproperlyConfigured(f"Checkpoint sink {url!r}: write file:///absolute/path.")
        return Sink(url, "file", path=Path(unquote(parts.path)))
    if scheme in ("syslog", "syslog+udp", "syslog+tcp"):
        socktype = socket.SOCK_STREAM if scheme == "syslog+tcp" else socket.SOCK_DGRAM
        if parts.hostname:
            return Sink(url, "syslog", address=(parts.hostname, parts.port or 514), socktype=socktype)
        if parts.path.startswith("/"):
            return Sink(url, "syslog", address=unquote(parts.path), socktype=socktype)
        raise ImproperlyConfigured(f"Checkpoint sink {url!r}: write syslog://host:514 or syslog:///dev/log.")
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise ImproperlyConfigured(f"Checkpoint sink {url!r} has no host.")
        return Sink(url, "http")
    raise ImproperlyConfigured(
        f"Checkpoint sink {url!r}: use file:///path, syslog://host:port, syslog:///dev/log or https://host/path."
    )


def configured_sinks() -> list[Sink]:
    return [parse_sink(url) for url in settings.AUDIT_CHECKPOINT_SINKS]


def outside_log_path() -> Path | None:
    """The copy of the outside checkpoints that verification reads: `AUDIT_CHECKPOINT_LOG`,
    else the first file sink. None when the checkpoints only go to syslog or HTTP."""
    if settings.AUDIT_CHECKPOINT_LOG:
        return Path(settings.AUDIT_CHECKPOINT_LOG)
    for url in settings.AUDIT_CHECKPOINT_SINKS:
        sink = parse_sink(url)
        if sink.kind == "file":
            return sink.path
    return None
