"""The form of a live check. It reads input only (JSON, numbers, items of this operation); whether
the parameters make sense for the type is the type's `clean`, run by `services.check_create` /
`check_update` through the model's `full_clean`, whose errors the view puts back on these fields."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput

from core import json_body
from tracker.models import Blocker, Finding, Operation, Task, Workspace

from .checks.base import registry
from .diagnosis import STEP_NAMES, STEP_SLUGS
from .models import REGION, AwsEnvironment, Check
from .selectors import DIAGNOSIS_TYPE, NO_SUCH_ENVIRONMENT, environments_for

MIN_INTERVAL_SECONDS = 30
MAX_INTERVAL_SECONDS = 7 * 24 * 3600


class JSONText(forms.JSONField):
    """JSON typed into a textarea, shown back indented; an error says how JSON writes text."""

    default_error_messages = {
        "invalid": 'Not valid JSON. Text goes in double quotes ("ENABLED"); true, false, numbers, '
        'lists ([...]) and objects ({"name": value}) as they are.'
    }

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):  # shown back as typed, to be corrected
            return value
        if value is None:
            return ""
        return json.dumps(value, indent=2, ensure_ascii=False)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and json_body.too_deep(value.encode(), settings.API_MAX_JSON_DEPTH):
            # json.loads would recurse past Python's limit (a 500): refused before it is parsed.
            raise ValidationError(
                f"Nested more than {settings.API_MAX_JSON_DEPTH} levels deep (API_MAX_JSON_DEPTH).", code="invalid"
            )
        value = super().to_python(value)
        return str(value) if isinstance(value, str) else value  # a plain str, not forms' JSONString


class ItemChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        if isinstance(obj, Task):
            return f"{obj.get_kind_display()}: {obj.title}"
        if isinstance(obj, Blocker):
            return f"{obj.title} ({obj.get_state_display().lower()})"
        return str(obj)


class ShowsServiceErrors:
    """A form whose services raise model ValidationErrors: `show_errors` puts each on the field it
    names, and the rest above the form."""

    def show_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


class CheckForm(ShowsServiceErrors, forms.Form):
    # The fields carry the model's names, so a model ValidationError lands on the field it names.
    name = forms.CharField(max_length=200)
    type = forms.ChoiceField(widget=forms.RadioSelect)
    environment = forms.ModelChoiceField(
        queryset=AwsEnvironment.objects.none(),  # the operation's workspace's (set in __init__)
        required=False,
        empty_label="— none (for checks that need no AWS) —",
        help_text="The AWS account the check looks at: one of this operation's workspace.",
        error_messages={"invalid_choice": NO_SUCH_ENVIRONMENT},
    )
    region = forms.ChoiceField(required=False, help_text="One of the regions the environment lists.")
    params = JSONText(
        label="Parameters",
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="A JSON object; the type's description above names its parameters.",
    )
    expected = JSONText(
        label="Expected value",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text='JSON: true, "ENABLED", 200… Empty where the type has a default.',
    )
    interval = forms.IntegerField(
        label="Interval (seconds)",
        min_value=MIN_INTERVAL_SECONDS,
        max_value=MAX_INTERVAL_SECONDS,
        initial=300,
        help_text="How often it looks: 30 seconds to 7 days.",
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="Unticked, it is not looked at.")
    finding = ItemChoice(
        queryset=Finding.objects.none(), required=False, help_text="Shows this check's verdict beside its words."
    )
    task = ItemChoice(
        queryset=Task.objects.none(),
        required=False,
        label="Task or criterion",
        help_text="Ticked while the check passes; unticked, with a blocker raised, when it regresses.",
    )
    blocker = ItemChoice(queryset=Blocker.objects.none(), required=False, help_text="Resolved when the check passes.")

    def __init__(self, *args: Any, operation: Operation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.operation = operation
        self.fields["type"].choices = [
            (code, kind.label) for code, kind in sorted(registry.items(), key=lambda item: item[1].label)
        ]
        environments = list(environments_for(operation))
        self.fields["environment"].queryset = environments_for(operation)
        self.environments = environments
        # Grouped by environment: the page shows which regions each one lists (the model checks the pair).
        self.fields["region"].choices = [("", "—")] + [
            (environment.name, [(region, region) for region in environment.regions]) for environment in environments
        ]
        if len(environments) == 1 and not self.is_bound and "environment" not in self.initial:
            self.initial["environment"] = environments[0].pk
            if len(environments[0].regions) == 1:
                self.initial.setdefault("region", environments[0].regions[0])
        self.fields["finding"].queryset = Finding.objects.filter(operation=operation)
        self.fields["task"].queryset = Task.objects.filter(operation=operation).order_by("kind", "position", "id")
        self.fields["blocker"].queryset = Blocker.objects.filter(operation=operation)

    @property
    def type_options(self) -> list[dict[str, Any]]:
        """Each registered type with its description, for the radio buttons of the page."""
        chosen = self["type"].value()
        return [
            {"code": code, "label": label, "help": registry[code].help, "checked": code == chosen}
            for code, label in self.fields["type"].choices
        ]

    def clean_params(self) -> dict[str, Any]:
        params = self.cleaned_data.get("params")
        if params is None:
            return {}
        if not isinstance(params, dict):
            raise ValidationError('Parameters are a JSON object: {"name": value, ...}.')
        return params

    def check_fields(self) -> dict[str, Any]:
        """The cleaned data as the services take it."""
        data = dict(self.cleaned_data)
        data["interval"] = dt.timedelta(seconds=data["interval"])
        return data

    @classmethod
    def initial_for(cls, check: Check) -> dict[str, Any]:
        return {
            "name": check.name,
            "type": check.type,
            "environment": check.environment_id,
            "region": check.region,
            "params": check.params,
            "expected": check.expected,
            "interval": int(check.interval.total_seconds()),
            "enabled": check.enabled,
            "finding": check.finding_id,
            "task": check.task_id,
            "blocker": check.blocker_id,
        }


class DiagnoseForm(forms.Form):
    """Which ECS service to walk, where, and the port the internet should reach."""

    environment = forms.ModelChoiceField(
        queryset=AwsEnvironment.objects.none(), error_messages={"invalid_choice": NO_SUCH_ENVIRONMENT}
    )
    region = forms.CharField(max_length=30)
    cluster = forms.CharField(max_length=255)
    service = forms.CharField(max_length=255)
    port = forms.IntegerField(min_value=1, max_value=65535, initial=5000)
    unknown_ok = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Steps that may not tell",
        help_text=(
            "One step that cannot tell (this role may not read it, or the account lacks the feature) makes the "
            "verdict unknown. Tick the steps you expect to be blind, and the verdict is judged without them."
        ),
    )

    def __init__(self, *args: Any, operation: Operation, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments_for(operation)
        steps = list(zip(STEP_SLUGS[1:], STEP_NAMES[1:], strict=True))
        self.fields["unknown_ok"].choices = [*steps, ("all", "all of them")]

    def clean(self):
        data = super().clean()
        environment, region = data.get("environment"), data.get("region")
        if environment is not None and region and region not in environment.regions:
            self.add_error("region", f"{environment} does not list {region}.")
        if environment is not None and not environment.allows_type(DIAGNOSIS_TYPE):
            self.add_error("environment", f"{environment} does not allow {DIAGNOSIS_TYPE} checks, whose walk this is.")
        return data


def aws_check_type_choices() -> list[tuple[str, str]]:
    """The types an environment can allow: those that look at AWS, by label."""
    return sorted(
        ((code, kind.label) for code, kind in registry.items() if kind.needs_aws), key=lambda choice: choice[1]
    )


class EnvironmentForm(ShowsServiceErrors, forms.Form):
    """An AWS environment of a workspace: the account, its regions, the check types it allows, the role."""

    workspace = forms.ModelChoiceField(
        queryset=Workspace.objects.none(),
        help_text="It stays there: only that workspace's operations can look at it.",
        error_messages={"invalid_choice": "No such workspace."},
    )
    name = forms.CharField(max_length=100)
    account_id = forms.CharField(label="Account id", max_length=12, help_text="Twelve digits; for people, not a key.")
    regions = forms.CharField(
        max_length=500, help_text="The regions checks may look at, separated by spaces or commas: us-east-1 eu-west-1."
    )
    check_types = forms.MultipleChoiceField(
        label="Allowed check types",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type. Ticked: only those may look at this account.",
    )
    role_arn = forms.CharField(
        label="Role ARN", max_length=600, required=False, help_text="Assumed from the workers' own credentials."
    )
    external_id = forms.CharField(
        label="External id",
        max_length=1224,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Sent with AssumeRole; never shown back. Left empty on an edit, it stays as it is.",
    )

    def __init__(self, *args: Any, workspaces, environment: AwsEnvironment | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.environment = environment
        self.fields["check_types"].choices = aws_check_type_choices()
        if environment is None:
            self.fields["workspace"].queryset = workspaces
            choices = list(workspaces[:2])
            if len(choices) == 1:
                self.initial.setdefault("workspace", choices[0].pk)
        else:  # an environment never moves: its workspace is shown, not chosen
            del self.fields["workspace"]

    def clean_regions(self) -> list[str]:
        regions = [region for region in re.split(r"[\s,]+", self.cleaned_data["regions"]) if region]
        for region in regions:
            try:
                REGION(region)
            except ValidationError:
                raise ValidationError(f"{region!r} is not an AWS region name, e.g. us-east-1.") from None
        return regions

    def environment_fields(self) -> dict[str, Any]:
        """The cleaned data as the services take it (an empty external id on an edit is left alone)."""
        data = dict(self.cleaned_data)
        if self.environment is not None and not data.get("external_id"):
            data.pop("external_id", None)
        return data

    @classmethod
    def initial_for(cls, environment: AwsEnvironment) -> dict[str, Any]:
        return {
            "name": environment.name,
            "account_id": environment.account_id,
            "regions": " ".join(environment.regions),
            "check_types": environment.check_types,
            "role_arn": environment.role_arn,
        }
