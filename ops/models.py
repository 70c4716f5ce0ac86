"""Live infrastructure checks: where to look (an AWS environment), what to look at (a check), and
what was seen each time (a check run) and when the verdict changed (a flip).

No credential is stored here: an environment names an account, its regions and optionally a role
to assume from boto3's standard credential chain (ops.aws).
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from tracker.models import Blocker, Finding, Operation, Task, Workspace

from .checks.base import get_type
from .checks.base import registry as check_registry

REGION = RegexValidator(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$", "Not an AWS region name, e.g. us-east-1.")
ROLE_ARN = RegexValidator(
    r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$",
    "Not an IAM role ARN (arn:aws:iam::123456789012:role/Name).",
)


def shown(value) -> str:
    """A JSON value as the user would type it (true, "ENABLED", [...]); text as it is."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# A check is STALE when its last answered run is older than this many intervals.
STALE_AFTER_INTERVALS = 3


class AwsEnvironment(models.Model):
    """An AWS account and the regions the checks may look at, and optionally a role to assume there.

    It belongs to one workspace: only that workspace's operations attach checks to it, and only its
    admins create or change it. `regions` and `check_types` are the narrowing an admin applies on
    top of the metadata-only allowlist of every check (ops.checks).
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="aws_environments")
    name = models.CharField(max_length=100)
    account_id = models.CharField(
        max_length=12, validators=[RegexValidator(r"^\d{12}$", "Twelve digits.")], help_text="For people; not a key."
    )
    regions = models.JSONField(default=list, help_text='e.g. ["us-east-1"]')
    role_arn = models.CharField("role ARN", max_length=600, blank=True, validators=[ROLE_ARN])
    external_id = models.CharField("external id", max_length=1224, blank=True)
    check_types = models.JSONField(
        default=list, blank=True, help_text="The check types allowed to use it; empty for every type."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AWS environment"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="aws_environment_name_unique_per_workspace"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.regions, list) or not self.regions:
            raise ValidationError({"regions": "List at least one region."})
        for region in self.regions:
            if not isinstance(region, str):
                raise ValidationError({"regions": "Regions are names, e.g. us-east-1."})
            try:
                REGION(region)
            except ValidationError as error:
                raise ValidationError({"regions": error.messages}) from None
        if not isinstance(self.check_types, list) or not all(isinstance(code, str) for code in self.check_types):
            raise ValidationError({"check_types": 'A list of check type codes, e.g. ["ecs_service_network"].'})
        unknown = sorted(set(self.check_types) - set(check_registry))
        if unknown:
            raise ValidationError({"check_types": f"Unknown check types: {', '.join(unknown)}."})

    def allows_type(self, code: str) -> bool:
        return not self.check_types or code in self.check_types


class CheckStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    ERROR = "error", "Error"


class Check(models.Model):
    """One fact about the infrastructure, looked at every `interval`, optionally keeping tracker items true."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=40)
    environment = models.ForeignKey(
        AwsEnvironment, null=True, blank=True, on_delete=models.PROTECT, related_name="checks"
    )
    region = models.CharField(max_length=30, blank=True, validators=[REGION])
    params = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True, blank=True)
    interval = models.DurationField(
        default=dt.timedelta(minutes=5), validators=[MinValueValidator(dt.timedelta(seconds=30))]
    )
    enabled = models.BooleanField(default=True)
    # The tracker items it keeps true (ops.sync): a finding shows its verdict and value beside the
    # team's words, a task or criterion is ticked while it passes, a blocker resolves when it passes.
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="checks")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="checks")
    blocker = models.ForeignKey(Blocker, null=True, blank=True, on_delete=models.SET_NULL, related_name="checks")

    status = models.CharField(max_length=10, choices=CheckStatus.choices, default=CheckStatus.PENDING)
    observed = models.JSONField(null=True, blank=True, editable=False)
    message = models.TextField(blank=True, editable=False)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_good_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="Last run AWS answered.")
    consecutive_errors = models.PositiveIntegerField(default=0, editable=False)
    # Scheduling: due when next_due_at has passed and no dispatcher holds an unexpired claim.
    next_due_at = models.DateTimeField(default=timezone.now, editable=False)
    claim_id = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["operation", "name", "id"]
        indexes = [
            # the dispatcher's query: enabled checks whose time has come
            models.Index(fields=["enabled", "next_due_at"], name="check_due"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        kind = get_type(self.type)
        if kind.needs_aws and self.environment_id is None:
            raise ValidationError({"environment": "This type of check looks at AWS: choose an environment."})
        if kind.needs_aws and not self.region:
            raise ValidationError({"region": "Choose a region."})
        if self.environment_id and self.environment.workspace_id != self.operation.workspace_id:
            # Said as if it did not exist: another workspace's environment is not confirmed.
            raise ValidationError({"environment": "No such AWS environment."})
        if self.environment_id and self.region and self.region not in self.environment.regions:
            raise ValidationError({"region": f"{self.environment} does not list {self.region}."})
        if self.environment_id and not self.environment.allows_type(self.type):
            raise ValidationError(
                {"type": f"{self.environment} does not allow {self.type} checks (see its allowed types)."}
            )
        self.params, self.expected = kind.clean(self.params or {}, self.expected)
        for item in (self.finding, self.task, self.blocker):
            if item is not None and item.operation_id != self.operation_id:
                raise ValidationError("A check can only keep items of its own operation true.")

    @property
    def observed_display(self) -> str:
        return "" if self.observed is None else shown(self.observed)

    @property
    def stale_after(self) -> dt.timedelta:
        return self.interval * STALE_AFTER_INTERVALS

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        """Not answered for 3 intervals (never run yet is PENDING, not stale)."""
        if self.last_run_at is None:
            return False
        reference = self.last_good_at or self.created_at
        return (now or timezone.now()) - reference > self.stale_after

    @property
    def shown_status(self) -> str:
        return "stale" if self.is_stale() else self.status


class CheckRun(models.Model):
    """One look at one check: the verdict, what was seen, the evidence and the AWS calls it took.

    `run_id` is derived from the dispatcher's claim, so a run redelivered after a worker died is
    recorded once (the second attempt finds it and stops).
    """

    live_check = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="runs")
    run_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=10, choices=CheckStatus.choices)
    observed = models.JSONField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    calls = models.JSONField(default=list, blank=True, help_text="The AWS operations called, one per page.")
    error_code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["live_check", "-started_at"], name="check_run_latest")]

    def __str__(self) -> str:
        return f"{self.live_check} {self.status} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class CheckFlip(models.Model):
    """The verdict of a check changed: from what to what, and the run that showed it."""

    live_check = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="flips")
    run = models.OneToOneField(CheckRun, on_delete=models.CASCADE, related_name="flip")
    from_status = models.CharField(max_length=10, choices=CheckStatus.choices)
    to_status = models.CharField(max_length=10, choices=CheckStatus.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.live_check}: {self.from_status} → {self.to_status}"
