"""Loan rules, the branch calendar, loans, holds, money owed, blocks and reader preferences.

Rows change only through ``services``; the models keep their own invariants (one open loan per
copy, one open hold per reader and record, money lines that are signed by their kind).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kitobxon.accounts.models import Segment
from kitobxon.catalogue.models import Branch, Item, LoanType, Record

ANY = "any"


class RuleSegment(models.TextChoices):
    ANY = ANY, _("Any reader")
    PUPIL = Segment.PUPIL.value, Segment.PUPIL.label
    STUDENT = Segment.STUDENT.value, Segment.STUDENT.label
    RESEARCHER = Segment.RESEARCHER.value, Segment.RESEARCHER.label
    TEACHER = Segment.TEACHER.value, Segment.TEACHER.label
    IT_YOUTH = Segment.IT_YOUTH.value, Segment.IT_YOUTH.label
    GUEST = Segment.GUEST.value, Segment.GUEST.label


class RuleLoanType(models.TextChoices):
    ANY = ANY, _("Any loan type")
    STANDARD = LoanType.STANDARD.value, LoanType.STANDARD.label
    SHORT_LOAN = LoanType.SHORT_LOAN.value, LoanType.SHORT_LOAN.label


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("days")
    HOURS = "hours", _("hours")


class LoanRule(models.Model):
    """One cell of the rules matrix: reader segment × loan type (× branch where it differs).

    The most specific matching rule wins: a rule for the copy's branch beats any rule for all
    branches; then a rule for the reader's segment beats "any reader"; then a rule for the
    copy's loan type beats "any loan type" (see ``rules.rule_for``).
    """

    segment = models.CharField(
        _("reader segment"), max_length=16, choices=RuleSegment.choices, default=ANY
    )
    loan_type = models.CharField(
        _("loan type"), max_length=16, choices=RuleLoanType.choices, default=ANY
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: every branch."),
    )
    loan_period = models.PositiveIntegerField(_("loan period"), default=14)
    period_unit = models.CharField(
        _("period unit"), max_length=8, choices=PeriodUnit.choices, default=PeriodUnit.DAYS
    )
    max_items = models.PositiveIntegerField(_("maximum items on loan"), default=5)
    renewals_allowed = models.PositiveIntegerField(_("renewals allowed"), default=1)
    renewal_period = models.PositiveIntegerField(
        _("renewal period"), default=14, help_text=_("In the same unit as the loan period.")
    )
    renew_overdue_days = models.PositiveIntegerField(
        _("renewable until overdue by (days)"),
        default=7,
        help_text=_("A loan overdue by more days than this cannot be renewed."),
    )
    holds_allowed = models.BooleanField(_("holds allowed"), default=True)
    fine_per_day = models.DecimalField(
        _("overdue fine per day (so'm)"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    max_fine = models.DecimalField(
        _("maximum fine per loan (so'm)"), max_digits=12, decimal_places=2, default=Decimal(0)
    )
    grace_days = models.PositiveIntegerField(
        _("grace days"),
        default=0,
        help_text=_("A copy returned this many open days late or less is not fined."),
    )

    class Meta:
        verbose_name = _("loan rule")
        verbose_name_plural = _("loan rules")
        ordering = ["branch__name", "segment", "loan_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "loan_type", "branch"],
                name="circulation_rule_unique_per_branch",
            ),
            models.UniqueConstraint(
                fields=["segment", "loan_type"],
                condition=Q(branch__isnull=True),
                name="circulation_rule_unique_everywhere",
            ),
            models.CheckConstraint(
                condition=Q(loan_period__gt=0), name="circulation_rule_period_positive"
            ),
        ]

    def __str__(self) -> str:
        where = self.branch.name if self.branch_id and self.branch else _("every branch")
        return f"{self.get_segment_display()} · {self.get_loan_type_display()} · {where}"


class OpeningHours(models.Model):
    """When a branch is open on one day of the week. A weekday without a row is closed.

    A branch with no rows at all has no timetable yet and counts as open every day.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["branch", "weekday"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "weekday"], name="circulation_hours_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="circulation_hours_close_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} {self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosureDay(models.Model):
    """A date a branch (or, without a branch, every branch) is closed: a holiday, a move."""

    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: every branch."),
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "date"], name="circulation_closure_unique"),
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(branch__isnull=True),
                name="circulation_closure_unique_everywhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class LoanState(models.TextChoices):
    ACTIVE = "active", _("On loan")
    CLAIMS_RETURNED = "claims_returned", _("Claimed returned")
    LOST = "lost", _("Lost")
    RETURNED = "returned", _("Returned")


OPEN_LOAN_STATES = (LoanState.ACTIVE, LoanState.CLAIMS_RETURNED)


class Loan(models.Model):
    """A copy lent to a reader. After the return the reader link is cleared (see privacy in
    ``services.loans``) unless the reader keeps a reading history; the segment stays for
    statistics."""

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="loans"
    )
    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loans",
    )
    segment = models.CharField(_("reader segment"), max_length=16, choices=Segment.choices)
    branch = models.ForeignKey(
        Branch, verbose_name=_("lent at"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=LoanState.choices, default=LoanState.ACTIVE
    )
    loaned_at = models.DateTimeField(_("lent"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), db_index=True)
    renewals = models.PositiveIntegerField(_("renewals"), default=0)
    renewed_at = models.DateTimeField(_("last renewed"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed returned"), null=True, blank=True)
    lost_at = models.DateTimeField(_("declared lost"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-loaned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(state__in=OPEN_LOAN_STATES),
                name="circulation_one_open_loan_per_item",
            ),
        ]
        indexes = [models.Index(fields=["patron", "state"])]

    def __str__(self) -> str:
        return f"{self.item} → {self.due_at:%Y-%m-%d}"

    @property
    def is_overdue(self) -> bool:
        return self.state == LoanState.ACTIVE and timezone.now() > self.due_at


class HoldState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    SUSPENDED = "suspended", _("Suspended")
    IN_TRANSIT = "in_transit", _("On its way to the pickup branch")
    READY = "ready", _("Ready on the hold shelf")
    FULFILLED = "fulfilled", _("Fulfilled")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


QUEUED_HOLD_STATES = (HoldState.WAITING, HoldState.SUSPENDED)
TRAPPED_HOLD_STATES = (HoldState.IN_TRANSIT, HoldState.READY)
OPEN_HOLD_STATES = (*QUEUED_HOLD_STATES, *TRAPPED_HOLD_STATES)


class Hold(models.Model):
    """A reader's place in the queue for a record (any copy) or for one specific copy.

    First come, first served: the queue is ordered by ``id``, which the database hands out
    in the order holds are placed.
    """

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="holds",
    )
    record = models.ForeignKey(
        Record, verbose_name=_("record"), on_delete=models.PROTECT, related_name="holds"
    )
    item = models.ForeignKey(
        Item,
        verbose_name=_("requested copy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="holds",
        help_text=_("Empty: the first available copy of the record."),
    )
    trapped_item = models.ForeignKey(
        Item,
        verbose_name=_("copy set aside"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pickup_branch = models.ForeignKey(
        Branch, verbose_name=_("pickup branch"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=HoldState.choices, default=HoldState.WAITING
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    expires_on = models.DateField(_("expires"))
    suspended_until = models.DateField(_("suspended until"), null=True, blank=True)
    trapped_at = models.DateTimeField(_("set aside"), null=True, blank=True)
    pickup_by = models.DateField(_("pick up by"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patron", "record"],
                condition=Q(state__in=OPEN_HOLD_STATES),
                name="circulation_one_open_hold_per_record",
            ),
            models.UniqueConstraint(
                fields=["trapped_item"],
                condition=Q(state__in=TRAPPED_HOLD_STATES),
                name="circulation_one_hold_per_trapped_item",
            ),
        ]
        indexes = [models.Index(fields=["record", "state"])]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_HOLD_STATES


class Transit(models.Model):
    """A copy on its way between branches: to a hold's pickup branch or back home."""

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="transits"
    )
    from_branch = models.ForeignKey(
        Branch, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+"
    )
    to_branch = models.ForeignKey(
        Branch, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    hold = models.ForeignKey(
        Hold,
        verbose_name=_("for hold"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)

    class Meta:
        verbose_name = _("transit")
        verbose_name_plural = _("transits")
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(received_at__isnull=True),
                name="circulation_one_open_transit_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.from_branch} → {self.to_branch}"


class ChargeKind(models.TextChoices):
    OVERDUE = "overdue", _("Overdue fine")
    LOST = "lost", _("Lost copy")
    DAMAGE = "damage", _("Damage")
    PAYMENT = "payment", _("Payment")
    WAIVER = "waiver", _("Waiver")


DEBITS = (ChargeKind.OVERDUE, ChargeKind.LOST, ChargeKind.DAMAGE)
CREDITS = (ChargeKind.PAYMENT, ChargeKind.WAIVER)


class Charge(models.Model):
    """One line of a reader's money account, in so'm. Lines are only ever added: what the
    reader owes is the sum (debits are positive, payments and waivers negative)."""

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reader"),
        on_delete=models.PROTECT,
        related_name="charges",
    )
    loan = models.ForeignKey(
        Loan,
        verbose_name=_("loan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="charges",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ChargeKind.choices)
    amount = models.DecimalField(_("amount (so'm)"), max_digits=12, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("charge or payment")
        verbose_name_plural = _("charges and payments")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=DEBITS) & Q(amount__gt=0))
                | (Q(kind__in=CREDITS) & Q(amount__lt=0)),
                name="circulation_charge_sign_follows_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Block(models.Model):
    """A librarian's note that stops a reader borrowing, until a date or until lifted."""

    patron = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reader"),
        on_delete=models.CASCADE,
        related_name="circulation_blocks",
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    until = models.DateField(_("until"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reason

    def is_active_on(self, day: date) -> bool:
        return self.lifted_at is None and (self.until is None or self.until >= day)


class ReaderPreference(models.Model):
    """A reader's circulation choices. Reading history is kept only when they opt in."""

    patron = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reader"),
        on_delete=models.CASCADE,
        related_name="circulation_preference",
    )
    keep_history = models.BooleanField(
        _("keep my reading history"),
        default=False,
        help_text=_("Otherwise a loan forgets who borrowed it as soon as it is returned."),
    )

    class Meta:
        verbose_name = _("reader preference")
        verbose_name_plural = _("reader preferences")

    def __str__(self) -> str:
        return str(self.patron)


class SentNotice(models.Model):
    """That the daily job already sent one reminder, so a rerun never sends it twice.

    It names the loan or hold (``subject``) but never the reader: a returned loan forgets its
    reader, and this must not remember them instead.
    """

    kind = models.CharField(_("kind"), max_length=16)
    subject = models.CharField(_("about"), max_length=64)
    on = models.DateField(_("for the day"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("sent notice")
        verbose_name_plural = _("sent notices")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "on"], name="circulation_notice_once_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.on}"


class TermsVersion(models.Model):
    """One row whose random token changes with every change to the rules matrix or a branch
    calendar (database triggers, migration 0004), so that processes may keep the lending
    terms in memory and know when to read them again (``circulation.terms``)."""

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("lending terms version")
        verbose_name_plural = _("lending terms versions")

    def __str__(self) -> str:
        return self.token
