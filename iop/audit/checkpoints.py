"""Signed checkpoints of the audit chain: the keys, the signed statement and its encoding.

A checkpoint says "the chain's entry #N has hash H", at a time, signed with an Ed25519 key
that is never stored in the database. Whoever owns the database can recompute every SHA-256
in the chain, but cannot sign a new checkpoint, so a rewrite before #N, a deletion and a
rolled-back head all contradict a checkpoint kept outside the database. An auditor verifies
with the public key alone and cannot forge one. No database access here.
"""

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FORMAT_VERSION = 1


class CheckpointKeyError(ImproperlyConfigured):
    """The signing key or a trusted public key is missing or is not an Ed25519 key."""


@dataclass(frozen=True)
class SignedCheckpoint:
    sequence: int
    head_hash: str
    made_at: str  # ISO 8601, UTC, microseconds: "2026-12-01T21:40:00.123456Z"
    key_id: str
    signature: str  # base64 of the 64-byte Ed25519 signature over `signed_bytes()`

    def signed_bytes(self) -> bytes:
        return statement_bytes(self.sequence, self.head_hash, self.made_at, self.key_id)

    def to_line(self) -> str:
        return json.dumps({"v": FORMAT_VERSION, **asdict(self)}, sort_keys=True, separators=(",", ":"))


def statement_bytes(sequence: int, head_hash: str, made_at: str, key_id: str) -> bytes:
    """The exact bytes that are signed: canonical JSON of the checkpoint without its signature."""
    statement = {
        "v": FORMAT_VERSION,
        "kind": "iop-audit-checkpoint",
        "sequence": sequence,
        "head_hash": head_hash,
        "made_at": made_at,
        "key_id": key_id,
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("ascii")


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short, stable name of a key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, *, sequence: int, head_hash: str, made_at: datetime) -> SignedCheckpoint:
    key_id = key_id_of(key.public_key())
    when = format_time(made_at)
    signature = key.sign(statement_bytes(sequence, head_hash, when, key_id))
    return SignedCheckpoint(sequence, head_hash, when, key_id, base64.b64encode(signature).decode("ascii"))


def signature_problem(checkpoint: SignedCheckpoint, trusted: dict[str, Ed25519PublicKey]) -> str:
    """Why this checkpoint's signature is not acceptable, or "" when it is."""
    public_key = trusted.get(checkpoint.key_id)
    if public_key is None:
        return f"signed with key {checkpoint.key_id}, which is not a trusted checkpoint key"
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        return f"its signature does not verify with key {checkpoint.key_id} (forged or altered)"
    return ""


def parse_line(line: str) -> SignedCheckpoint:
    """One line of a checkpoint log (JSON). Raises ValueError when it is not a checkpoint."""
    data = json.loads(line)
    if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
        raise ValueError("not a version-1 checkpoint")
    checkpoint = SignedCheckpoint(
        sequence=data["sequence"],
        head_hash=data["head_hash"],
        made_at=data["made_at"],
        key_id=data["key_id"],
        signature=data["signature"],
    )
    if not isinstance(checkpoint.sequence, int) or checkpoint.sequence < 1:
        raise ValueError("bad sequence")
    if not all(
        isinstance(value, str) for value in (checkpoint.head_hash, checkpoint.key_id, checkpoint.signature)
    ):
        raise ValueError("bad field")
    return checkpoint


def read_log(path: Path) -> list[tuple[int, SignedCheckpoint | None]]:
    """Every line of a checkpoint log file: (line number, checkpoint or None if unreadable)."""
    lines = []
    with path.open(encoding="utf-8", errors="replace") as log:
        for number, line in enumerate(log, start=1):
            text = line.strip()
            if not text:
                continue
            # Lines received through syslog carry a prefix before the JSON.
            if "{" in text and "}" in text:
                text = text[text.find("{") : text.rfind("}") + 1]
            try:
                lines.append((number, parse_line(text)))
            except (ValueError, KeyError, TypeError):
                lines.append((number, None))
    return lines


# --- Keys ------------------------------------------------------------------------------------


def _private_key_from(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise CheckpointKeyError(f"Cannot read the audit checkpoint key {path}: {error.strerror}.") from None
    except (ValueError, TypeError):
        raise CheckpointKeyError(f"{path} is not an unencrypted PEM private key.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 key (generate one with audit_checkpoint_key).")
    return key


def _public_key_from(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise CheckpointKeyError(f"Cannot read the checkpoint public key {path}: {error.strerror}.") from None
    except (ValueError, TypeError):
        raise CheckpointKeyError(f"{path} is not a PEM public key.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 public key.")
    return key


def write_new_key(path: Path) -> Ed25519PrivateKey:
    """Create a new private key file (mode 0600) and its public key beside it (`.pub`).

    Refuses to replace an existing file; when two processes race, the loser gets the winner's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, pem)
        os.fsync(handle)
        os.close(handle)
        os.link(temporary, path)  # atomic, and fails if the key already exists
    finally:
        os.unlink(temporary)
    public_path = path.with_name(path.name + ".pub")
    if not public_path.exists():
        public_path.write_bytes(public_pem(key.public_key()))
    return key


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def signing_key() -> Ed25519PrivateKey:
    """The configured private key (`AUDIT_CHECKPOINT_KEY_FILE`). The embedded clinic makes its
    own the first time it needs one; production must configure it (a system check says so)."""
    configured = settings.AUDIT_CHECKPOINT_KEY_FILE
    if not configured:
        raise CheckpointKeyError(
            "AUDIT_CHECKPOINT_KEY_FILE is not set: the audit trail cannot be checkpointed. "
            "Generate a key with `manage.py audit_checkpoint_key --generate PATH` (see .env.example)."
        )
    path = Path(configured)
    if not path.exists() and settings.AUDIT_CHECKPOINT_GENERATE_KEY:
        try:
            return write_new_key(path)
        except FileExistsError:
            pass
    return _private_key_from(path)


def trusted_keys(public_key_files: list[str] | None = None) -> dict[str, Ed25519PublicKey]:
    """Public keys a checkpoint may be signed with, by key id.

    By default the configured key's own public key plus the retired ones kept for
    verification (`AUDIT_CHECKPOINT_PUBLIC_KEYS`). An auditor passes public key files instead
    and then trusts those alone.
    """
    keys: list[Ed25519PublicKey] = []
    if public_key_files is not None:
        keys = [_public_key_from(Path(name)) for name in public_key_files]
    else:
        keys = [_public_key_from(Path(name)) for name in settings.AUDIT_CHECKPOINT_PUBLIC_KEYS]
        configured = settings.AUDIT_CHECKPOINT_KEY_FILE
        if configured and Path(configured).exists():
            keys.append(_private_key_from(Path(configured)).public_key())
    return {key_id_of(key): key for key in keys}
