from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Live AWS checks (issue 5). Empty until then; it may import tracker, never the reverse."""

    name = "ops"
    verbose_name = "Infrastructure checks"
