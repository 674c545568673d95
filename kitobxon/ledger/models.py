"""The log's tables: entries, the tree's stored nodes, its head, checkpoints and witnesses."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Entry(models.Model):
    """One change the library commits to, worded as canonical JSON.

    ``record`` writes the row in the caller's transaction with no ``leaf_index``: it exists
    exactly when the change committed. The sequencer (``services.integrate``) then gives
    queued entries their place in the tree, in the order they were queued. The leaf is
    ``SHA-256(0x00 || body)``; ``kind``, ``subject``, ``sha256`` and ``reader`` repeat fields
    of the body so they can be looked up, and `ledger verify` checks that they agree.
    """

    id = models.BigAutoField(primary_key=True)
    leaf_index = models.BigIntegerField(_("leaf index"), null=True, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=100, db_index=True)
    sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True, db_index=True)
    # Not indexed on its own: a pseudonym is per subject, so lookups go by subject first, and
    # random HMAC keys would make every insert touch a random index page.
    reader = models.CharField(_("reader pseudonym"), max_length=64, blank=True)
    body = models.TextField(_("entry"))
    leaf_hash = models.BinaryField(_("leaf hash"), max_length=32)
    created_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(leaf_index__isnull=True),
                name="ledger_entry_queued",
            )
        ]
        permissions = [("view_ledger_reports", _("Can see fixity reports and witnesses"))]

    def __str__(self) -> str:
        return f"{self.leaf_index if self.leaf_index is not None else 'queued'} {self.kind}"


class Node(models.Model):
    """A perfect subtree's hash (level 1 and up; leaves are in Entry.leaf_hash).

    ``key`` is ``level << 48 | index``: the subtree of ``2**level`` leaves from
    ``index * 2**level``. Once written a node never changes, whatever the tree grows to.
    """

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("tree node")
        verbose_name_plural = _("tree nodes")

    def __str__(self) -> str:
        return f"{self.key >> 48}/{self.key & ((1 << 48) - 1)}"


class TreeHead(models.Model):
    """The tree's size and root now. One row; the sequencer locks it while it appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tree head")
        verbose_name_plural = _("tree heads")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="ledger_one_head")]

    def __str__(self) -> str:
        return f"{self.size}"


class Checkpoint(models.Model):
    """A signed statement of the tree's size and root, in the C2SP signed-note format."""

    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    note = models.TextField(_("signed note"))
    signed_at = models.DateTimeField(_("signed at"))

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"{self.tree_size}"


class Witness(models.Model):
    """A partner library whose cosignatures of our checkpoints we accept and show."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    verifier_key = models.CharField(_("verifier key"), max_length=300, unique=True)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's C2SP cosignature/v1 line over one of our checkpoints."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.CASCADE, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.CASCADE, related_name="cosignatures")
    timestamp = models.BigIntegerField(_("cosigned at (Unix time)"))
    line = models.TextField(_("signature line"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cosignature")
        verbose_name_plural = _("cosignatures")
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="ledger_one_cosignature_per_witness"
            )
        ]

    def __str__(self) -> str:
        return f"{self.witness} @ {self.checkpoint}"


class WitnessedLog(models.Model):
    """A partner's log this library witnesses: its key and the last checkpoint it accepted."""

    url = models.URLField(_("address"), unique=True)
    origin = models.CharField(_("origin"), max_length=200)
    verifier_key = models.CharField(_("verifier key"), max_length=300)
    tree_size = models.BigIntegerField(_("tree size"), default=0)
    root_hash = models.BinaryField(_("root hash"), max_length=32)
    note = models.TextField(_("last checkpoint"), blank=True)
    checked_at = models.DateTimeField(_("checked at"), auto_now=True)

    class Meta:
        verbose_name = _("witnessed log")
        verbose_name_plural = _("witnessed logs")

    def __str__(self) -> str:
        return self.origin


class FixityRun(models.Model):
    """One pass re-hashing every registered file, with what did not match."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    files_checked = models.PositiveIntegerField(_("files checked"), default=0)
    problems = models.JSONField(_("problems"), default=list)

    class Meta:
        verbose_name = _("fixity check")
        verbose_name_plural = _("fixity checks")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"
