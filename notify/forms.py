from __future__ import annotations

from django import forms

from .models import Follow
from .services import EVENT_CHOICES

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ChannelForm(forms.Form):
    url = forms.CharField(
        label="Apprise URL",
        max_length=2000,
        widget=forms.PasswordInput(render_value=False),
        help_text="e.g. slack://TokenA/TokenB/TokenC/#channel or "
        "mailtos://user:password@smtp.example.com?to=team@example.com. It is stored encrypted and never shown again.",
    )
    label = forms.CharField(max_length=200, required=False, help_text="What it is, e.g. '#infra on Slack'.")
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    sends_reports = forms.BooleanField(required=False, initial=True, label="Also send the status reports")
    flap_runs = forms.IntegerField(min_value=0, max_value=100, initial=2, label="A flipped check must hold for (runs)")
    flap_minutes = forms.IntegerField(min_value=0, max_value=1440, initial=0, label="and for (minutes)")
    slip_days = forms.IntegerField(
        min_value=0, max_value=365, initial=3, label="Tell a forecast slip of more than (days)"
    )


class ChannelRulesForm(ChannelForm):
    """What an existing channel hears and how patiently; its URL stays as it is."""

    url = None


class ScheduleForm(forms.Form):
    enabled = forms.BooleanField(required=False, initial=True, label="Send the status report every week")
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, initial=0)
    hour = forms.IntegerField(min_value=0, max_value=23, initial=9)
    minute = forms.IntegerField(min_value=0, max_value=59, initial=0)
    timezone = forms.CharField(max_length=64, initial="UTC", help_text="e.g. Europe/Paris")


class FollowForm(forms.Form):
    mode = forms.ChoiceField(choices=[("", "Not following"), *Follow.Mode.choices], required=False, label="Email me")
