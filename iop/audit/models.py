"""The append-only, hash-chained audit trail.

Every chart read and every change to clinical data appends one `AuditEntry`, in the same
transaction as the change. Each entry's SHA-256 hash covers its own fields and the previous
entry's hash, and entries are numbered without gaps, so an edited, deleted or reordered row
breaks the chain where `verify_audit_chain` can point at it.
"""

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    BREAK_GLASS = "break_glass", "Break-the-glass access"
    COMMITMENT = "commitment", "Commitment"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")


class AuditEntry(models.Model):
    sequence = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    patient_public_id = models.UUIDField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    reason = models.TextField(blank=True)
    changed_fields = models.JSONField(default=list, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["patient_public_id", "-sequence"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash. Locked to append, so the chain is linear."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="single_chain_head")]

    def __str__(self) -> str:
        return f"chain head at #{self.last_sequence}"


class AuditCheckpoint(models.Model):
    """A signed statement that entry #sequence of the chain had hash `head_hash` at `made_at`.

    Signed with an Ed25519 key that is never in the database (`iop.audit.checkpoints`), and
    written to a sink outside the database before this row, so whoever owns the database can
    neither forge one nor hide a rewrite by deleting these rows. Append-only like the entries.
    """

    sequence = models.PositiveBigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    made_at = models.CharField(max_length=32, help_text="UTC, as signed")
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.sequence} (key {self.key_id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit checkpoints are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit checkpoints are append-only.")


class ChainVerification(models.Model):
    """The result of one verification run (nightly task or command)."""

    verified_on = models.DateField(unique=True)
    run_at = models.DateTimeField()
    ok = models.BooleanField()
    entries_checked = models.PositiveBigIntegerField()
    first_broken_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=255, blank=True)
    checkpoints_checked = models.PositiveIntegerField(default=0)
    latest_checkpoint_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-verified_on"]

    def __str__(self) -> str:
        return f"{self.verified_on}: {'ok' if self.ok else 'BROKEN'}"
