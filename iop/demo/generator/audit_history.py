"""The audit trail a clinic accumulates: its care teams' chart reads over every episode so far.

Only for the reference workload (`mix="reference"`, `make bench`): the trail is the table that
grows fastest in a real clinic, so the benchmark must carry it. The reads are written straight
into the audit table in time order with a valid hash chain (the same `entry_hash` the services
use), continuing from the chain's head, and the head is moved to the last one. Run once: the
part records a `demo.audit_history` event and does nothing when that event exists.
"""

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from iop.audit.chain import GENESIS_HASH, ChainLink, entry_hash
from iop.audit.models import AuditAction, AuditChainHead, AuditEntry
from iop.audit.services import record_event
from iop.demo.generator.clinic import DemoClinic, demo_patients
from patients.models import CareTeamMember, Episode

HISTORY_OBJECT_TYPE = "demo.audit_history"
CHART_SECTION = "patients.chart.overview"
READS_PER_WEEK = 3  # each episode's chart is opened about three times a week by its care team
INSERT_BATCH = 5000


class AuditHistory:
    """Two years of chart reads by the care teams, in time order, chained."""

    def build(self, clinic: DemoClinic) -> None:
        if clinic.mix != "reference" or AuditEntry.objects.filter(object_type=HISTORY_OBJECT_TYPE).exists():
            return
        reads = self._reads(clinic)
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_sequence": 0, "last_hash": GENESIS_HASH}
        )
        sequence, previous_hash = head.last_sequence, head.last_hash
        batch: list[AuditEntry] = []
        with clinic.progress("Audit history", len(reads), unit=" entries") as progress:
            for occurred_at, actor_id, username, patient_public_id in reads:
                sequence += 1
                link = ChainLink(
                    sequence=sequence,
                    occurred_at=occurred_at,
                    actor_id=actor_id,
                    actor_username=username,
                    action=AuditAction.READ.value,
                    object_type=CHART_SECTION,
                    object_id=patient_public_id,
                    patient_public_id=patient_public_id,
                    ip_address="",
                    reason="",
                    changed_fields=[],
                    prev_hash=previous_hash,
                )
                previous_hash = entry_hash(link)
                batch.append(
                    AuditEntry(
                        sequence=sequence,
                        occurred_at=occurred_at,
                        actor_id=actor_id,
                        actor_username=username,
                        action=AuditAction.READ,
                        object_type=CHART_SECTION,
                        object_id=patient_public_id,
                        patient_public_id=patient_public_id,
                        changed_fields=[],
                        prev_hash=link.prev_hash,
                        entry_hash=previous_hash,
                    )
                )
                if len(batch) >= INSERT_BATCH:
                    AuditEntry.objects.bulk_create(batch)
                    progress.update(len(batch))
                    batch = []
            AuditEntry.objects.bulk_create(batch)
            progress.update(len(batch))
        AuditChainHead.objects.filter(pk=1).update(last_sequence=sequence, last_hash=previous_hash)
        clinic.created["audit entries"] += len(reads)
        record_event(
            actor=None,
            action=AuditAction.CREATE,
            object_type=HISTORY_OBJECT_TYPE,
            reason=f"Synthetic audit history: {len(reads)} chart reads",
        )

    def _reads(self, clinic: DemoClinic) -> list[tuple[datetime, int, str, str]]:
        """(moment, actor id, username, patient public id) of every read, in time order."""
        team: dict[int, list[tuple[int, str]]] = {}
        for episode_id, user_id, username in CareTeamMember.objects.filter(
            episode__patient__in=demo_patients()
        ).values_list("episode_id", "user_id", "user__username"):
            team.setdefault(episode_id, []).append((user_id, username))
        reads = []
        episodes = Episode.objects.filter(patient__in=demo_patients()).values_list(
            "pk", "patient__public_id", "admitted_on", "discharged_on", "site__timezone"
        )
        for episode_id, public_id, admitted_on, discharged_on, zone_name in episodes.iterator(
            chunk_size=5000
        ):
            members = team.get(episode_id)
            if not members:
                continue
            rng = clinic.rng("audit", episode_id)
            zone = ZoneInfo(str(zone_name))
            last_day = min(discharged_on or clinic.today, clinic.today)
            days = max((last_day - admitted_on).days, 1)
            patient = str(public_id)
            for _ in range(max(1, days * READS_PER_WEEK // 7)):
                day = admitted_on + timedelta(days=rng.randrange(days))
                moment = datetime.combine(day, time(8), tzinfo=zone) + timedelta(minutes=rng.randrange(600))
                moment = min(moment, clinic.now).astimezone(UTC)
                # The primary clinician reads most; the rest of the team now and then.
                user_id, username = members[0] if rng.random() < 0.6 else random.Random.choice(rng, members)
                reads.append((moment, user_id, username, patient))
        reads.sort(key=lambda read: read[0])
        return reads
