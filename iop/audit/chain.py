"""The hash chain itself: pure functions over plain values, no database."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainLink:
    sequence: int
    occurred_at: datetime
    actor_id: int | None
    actor_username: str
    action: str
    object_type: str
    object_id: str
    patient_public_id: str
    ip_address: str
    reason: str
    changed_fields: list
    prev_hash: str


def entry_hash(link: ChainLink) -> str:
    """SHA-256 over a canonical JSON encoding of every field and the previous hash."""
    payload = [
        link.sequence,
        link.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        link.actor_id,
        link.actor_username,
        link.action,
        link.object_type,
        link.object_id,
        link.patient_public_id,
        link.ip_address,
        link.reason,
        link.changed_fields,
        link.prev_hash,
    ]
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()
