"""Forms of the dashboard. They validate input only; the views hand the cleaned data to services."""

from __future__ import annotations

from django import forms

from .importers import DocumentTooLarge, check_size
from .models import Achievement, Blocker, Decision, Finding, Membership, Phase

PhaseChoices = tuple[tuple[int, str], ...]


def phase_choices(phases: list[Phase]) -> PhaseChoices:
    """Phases already loaded, in number order, as the (id, label) options a phase field lists."""
    return tuple((phase.pk, str(phase)) for phase in phases)  # str: ModelChoiceField.label_from_instance


def phase_field(field: forms.ModelChoiceField, operation, phases: PhaseChoices | None) -> None:
    """Point a phase field at the phases of `operation` (an Operation or its id). The queryset validates
    a submitted choice; the options shown are `phases` (see `phase_choices`) when the caller has them
    loaded already, as the dashboard does, instead of a query of their own (on PostgreSQL a server-side
    cursor: 3 round trips)."""
    field.queryset = Phase.objects.filter(operation=operation).order_by("number")
    if phases is not None:
        blank = [("", field.empty_label)] if field.empty_label is not None else []
        field.choices = [*blank, *phases]


class BlockerForm(forms.ModelForm):
    class Meta:
        model = Blocker
        fields = ["title", "severity", "description", "impact", "status_text"]
        widgets = {name: forms.Textarea(attrs={"rows": 2}) for name in ("description", "impact", "status_text")}


class ResolveBlockerForm(forms.Form):
    status_text = forms.CharField(label="Status", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FindingForm(forms.ModelForm):
    class Meta:
        model = Finding
        fields = ["phase", "subject", "observed", "expected", "verdict", "note"]
        widgets = {name: forms.TextInput() for name in ("observed", "expected", "note")}

    def __init__(self, *args, operation, phases: PhaseChoices | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        phase_field(self.fields["phase"], operation, phases)


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["group", "title", "detail"]
        widgets = {"detail": forms.TextInput()}


class AchievementForm(forms.ModelForm):
    class Meta:
        model = Achievement
        fields = ["category", "icon", "title", "detail"]
        widgets = {"detail": forms.TextInput()}


class CurrentPhaseForm(forms.Form):
    phase = forms.ModelChoiceField(queryset=Phase.objects.none(), label="Current phase")

    def __init__(self, *args, operation, phases: PhaseChoices | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        phase_field(self.fields["phase"], operation, phases)


class ImportForm(forms.Form):
    workspace = forms.ModelChoiceField(queryset=None, empty_label=None, help_text="The team it belongs to.")
    document = forms.FileField(help_text="A markdown tracker, like docs/examples/operation-snail-trail.md.")
    replace = forms.BooleanField(required=False, help_text="Replace the operation of the same name if it exists.")

    def clean_document(self):
        """Refuse a document over TRACKER_MAX_DOCUMENT_BYTES before anything reads it (code
        `too_large`: the page answers 413)."""
        upload = self.cleaned_data["document"]
        try:
            check_size(upload.size)
        except DocumentTooLarge as refused:
            raise forms.ValidationError(refused.message, code="too_large") from None
        return upload

    def __init__(self, *args, workspaces, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["workspace"]
        field.queryset = workspaces
        self.only_workspace = workspaces.first() if len(workspaces[:2]) == 1 else None
        if self.only_workspace is not None:  # nothing to choose: not shown, and not needed in the post
            field.widget, field.required = forms.HiddenInput(), False

    def clean_workspace(self):
        return self.cleaned_data.get("workspace") or self.only_workspace


class MembershipForm(forms.Form):
    """Adding someone to the operation: a member of its workspace, by name (the page offers the names)."""

    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"list": "workspace-people", "autocomplete": "off"})
    )
    role = forms.ChoiceField(choices=Membership.Role.choices)


class MembershipRoleForm(forms.Form):
    """A member's new role, from their row on the sharing page."""

    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        error_messages={"invalid_choice": "Not a role: choose viewer, editor or admin."},
    )
