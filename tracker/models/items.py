"""The tracker domain: an operation, its phases, and what a team writes down about them.

Field names are the words of the tracker documents (operation, phase, blocker, finding,
completion criterion, achievement, decision). Text fields hold inline markdown as the team wrote
it (`code`, **bold**); the pages render it, the exporter writes it back unchanged.

Models own their fields and simple derived state (`Phase.progress`); every write goes through
`tracker.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from ..lib import document as d
from .workspace import Workspace


def validate_single_line(value: str) -> None:
    if "\n" in value or "\r" in value:
        raise ValidationError("must be a single line")


def percent_field(verbose_name: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text="As stated by the team; empty to derive it from the tasks.",
    )


def title_field(max_length: int = d.MAX_TITLE, **kwargs) -> models.CharField:
    return models.CharField(max_length=max_length, validators=[validate_single_line], **kwargs)


def _check_same_operation(item: models.Model) -> None:
    phase = getattr(item, "phase", None)
    if phase is not None and item.operation_id is not None and phase.operation_id != item.operation_id:
        raise ValidationError({"phase": "That phase belongs to another operation."})


class LiveVerdict(models.TextChoices):
    PASS = "pass", "passes"
    FAIL = "fail", "fails"


class CheckBacked(models.Model):
    """An item a live infrastructure check keeps true (the ops app): when it last looked, how old
    that look may get before the page marks the item stale, and what it saw.

    What the check saw is kept beside the team's words, never in them (issue #15): a finding's
    `observed` and verdict are what the team wrote, `live_observed` and `live_verdict` what AWS
    answered last. The markdown export writes the team's words only (docs/tracker-format.md)."""

    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_stale_after = models.DurationField(null=True, blank=True, editable=False)
    live_verdict = models.CharField(max_length=10, choices=LiveVerdict.choices, blank=True, editable=False)
    live_observed = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_check_backed(self) -> bool:
        return self.checked_at is not None

    def is_stale(self, now=None) -> bool:
        if self.checked_at is None or self.check_stale_after is None:
            return False
        return (now or timezone.now()) - self.checked_at > self.check_stale_after


class Status(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    ON_HOLD = "on_hold", "On hold"
    COMPLETE = "complete", "Complete"
    CANCELLED = "cancelled", "Cancelled"


class PhaseStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    COMPLETE = "complete", "Complete"


class TimeStamped(models.Model):
    """When a row last changed and who changed it; the page shows both beside every item."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Who changed it when no person did, named as the activity log names them ("check: VPC DNS",
    # "import"); with `updated_by`, what kind of change a person made ("import").
    updated_by_name = models.CharField(max_length=150, blank=True, editable=False)

    class Meta:
        abstract = True


class Operation(TimeStamped):
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="operations")
    name = title_field(d.MAX_NAME)
    # Unique across the instance (it is the operation's URL); never a route's word (RESERVED_SLUGS)
    # and never confirming another workspace's operation: a clash gets a fresh suffix (services).
    slug = models.SlugField(max_length=200, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    status_icon = models.CharField(max_length=d.MAX_ICON, blank=True)
    start_date = models.DateField(null=True, blank=True)
    stated_progress = percent_field("stated progress %")
    current_phase = models.ForeignKey("Phase", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    motto = models.TextField(blank=True)
    footer = models.TextField(blank=True)
    # How the markdown export looks: the title's emoji and text, the order and headings of its
    # sections. Presentation only; the content lives in the related models.
    emoji = models.CharField(max_length=d.MAX_ICON, blank=True)
    title = title_field(d.MAX_TITLE, blank=True, help_text="Document title, when not '<NAME>: PROGRESS TRACKER'.")
    layout = models.JSONField(default=list, blank=True)
    extra_fields = models.JSONField(default=list, blank=True)
    # Bumped with every activity entry, i.e. with every change to the operation or anything in it:
    # the dashboard's ETag, so a page polling for changes costs one small query while nothing changes.
    version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tracker:operation", kwargs={"slug": self.slug})

    def clean(self) -> None:
        if self.current_phase is not None and self.current_phase.operation_id != self.pk:
            raise ValidationError({"current_phase": "That phase belongs to another operation."})

    @property
    def progress(self) -> int:
        """The stated overall %, else the mean of the phases' progress."""
        if self.stated_progress is not None:
            return self.stated_progress
        phases = list(self.phases.all())
        if not phases:
            return 100 if self.status == Status.COMPLETE else 0
        return round(sum(phase.progress for phase in phases) / len(phases))


class Phase(TimeStamped):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveIntegerField()
    title = title_field()
    status = models.CharField(max_length=20, choices=PhaseStatus.choices, default=PhaseStatus.NOT_STARTED)
    stated_progress = percent_field("stated progress %")
    duration = models.DurationField(null=True, blank=True, help_text="As stated; else finished − started.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    current_focus = models.TextField(blank=True)
    achievement = models.TextField(blank=True, help_text="One-line summary of what the phase achieved.")
    extra_fields = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["operation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "number"], name="phase_number_unique_per_operation"),
        ]

    def __str__(self) -> str:
        return f"Phase {self.number}: {self.title}"

    def _task_counts(self) -> tuple[int, int]:
        # Selectors annotate these; fall back to a query for a lone phase.
        if hasattr(self, "tasks_total"):
            return self.tasks_total, self.tasks_done
        counted = self.tasks.exclude(kind=Task.Kind.NEXT_STEP).aggregate(
            total=models.Count("id"), done=models.Count("id", filter=Q(done=True))
        )
        return counted["total"], counted["done"]

    @property
    def derived_progress(self) -> int | None:
        """Done tasks and completion criteria over all of them; None when the phase has none."""
        total, done = self._task_counts()
        return round(100 * done / total) if total else None

    @property
    def progress(self) -> int:
        """What the dashboard shows: the stated % when the team gave one, else the derived one."""
        if self.stated_progress is not None:
            return self.stated_progress
        derived = self.derived_progress
        if derived is not None:
            return derived
        return 100 if self.status == PhaseStatus.COMPLETE else 0

    @property
    def elapsed(self):
        if self.duration is not None:
            return self.duration
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Task(CheckBacked, TimeStamped):
    class Kind(models.TextChoices):
        TASK = "task", "Task"
        NEXT_STEP = "next_step", "Next step"
        CRITERION = "criterion", "Completion criterion"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="tasks")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TASK)
    group = title_field(d.MAX_NAME, blank=True, help_text="The heading it is listed under, e.g. 'Immediate Actions'.")
    title = title_field()
    detail = models.TextField(blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    icon = models.CharField(max_length=d.MAX_ICON, blank=True)
    # How the document wrote it where its state does not say (lib/document.WRITTEN_AS), so the
    # export writes it back as the team did: a task under Pending Tasks stays there once ticked.
    written_as = models.CharField(max_length=10, choices=d.WRITTEN_AS_CHOICES, blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # the phase detail: a phase's tasks and criteria in document order
            models.Index(fields=["phase", "kind", "position"], name="task_phase_kind_position"),
            # the next-steps list of an operation and the burn-up's counts by kind
            models.Index(fields=["operation", "kind", "position"], name="task_operation_kind_position"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="next_step") | Q(phase__isnull=False),
                name="task_and_criterion_need_a_phase",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        _check_same_operation(self)
        if self.kind != self.Kind.NEXT_STEP and self.phase_id is None:
            raise ValidationError({"phase": "Tasks and completion criteria belong to a phase."})


class Challenge(TimeStamped):
    """An open question the team is working on ('Current Challenge' in a phase's detail)."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="challenges")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="challenges")
    title = title_field()
    detail = models.TextField(blank=True)
    icon = models.CharField(max_length=d.MAX_ICON, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        _check_same_operation(self)


class Finding(CheckBacked, TimeStamped):
    """An investigation result: what was looked at, what was seen, and whether it is right."""

    class Verdict(models.TextChoices):
        CORRECT = "correct", "Correct"
        WARNING = "warning", "Warning"
        WRONG = "wrong", "Wrong"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="findings")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="findings")
    subject = title_field()
    observed = models.TextField(blank=True)
    expected = models.TextField(blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    note = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.subject

    def clean(self) -> None:
        _check_same_operation(self)


class Blocker(TimeStamped):
    class Severity(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="blockers")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.PRIMARY)
    title = title_field()
    description = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    status_text = models.TextField("status", blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # "open blockers" on the operation list and the forecast's at-risk flag
            models.Index(fields=["operation", "state", "severity"], name="blocker_open_by_severity"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class Decision(TimeStamped):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="decisions")
    group = title_field(d.MAX_NAME, blank=True, help_text="e.g. 'Phase 4 Strategy'.")
    title = title_field()
    detail = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Achievement(TimeStamped):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="achievements")
    category = title_field(d.MAX_NAME, blank=True, help_text="e.g. 'Technical Accomplishments'.")
    icon = models.CharField(max_length=d.MAX_ICON, blank=True)
    title = title_field()
    detail = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class Quote(TimeStamped):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="quotes")
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class Note(TimeStamped):
    """A section of an imported document that the tracker has no model for, kept verbatim."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="notes")
    emoji = models.CharField(max_length=d.MAX_ICON, blank=True)
    title = title_field()
    body = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class ActivityEntry(models.Model):
    """One change to an operation: who, when, what, and each field's old and new value."""

    class Action(models.TextChoices):
        CREATED = "created", "created"
        UPDATED = "updated", "updated"
        DELETED = "deleted", "deleted"
        IMPORTED = "imported", "imported"
        REPLACED = "replaced", "replaced"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="activity")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, help_text="Kept when the user is deleted; 'system' for workers.")
    action = models.CharField(max_length=10, choices=Action.choices)
    subject_type = models.CharField(max_length=30)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject_label = models.CharField(max_length=500)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [old, new]}")
    evidence = models.JSONField(
        default=dict, blank=True, help_text="Why a worker made the change: the check and what AWS answered."
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "activity entries"
        indexes = [
            # the activity feed: an operation's latest changes first
            models.Index(fields=["operation", "-at"], name="activity_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.subject_type} '{self.subject_label}'"


class ProgressSnapshot(models.Model):
    """Progress at a moment, written whenever it changes: the data of the burn-up and the forecast.

    `phase` is None for the whole operation. Counts are of tasks and completion criteria.
    """

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="progress_history")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="progress_history")
    at = models.DateTimeField()
    progress = models.PositiveSmallIntegerField()
    tasks_done = models.PositiveIntegerField()
    tasks_total = models.PositiveIntegerField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # the burn-up and the forecast: one operation's history in time order
            models.Index(fields=["operation", "at"], name="progress_history_in_time"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {'phase ' + str(self.phase_id) if self.phase_id else 'overall'} {self.progress}%"
