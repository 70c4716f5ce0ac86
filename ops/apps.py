from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Live AWS checks. It may import tracker, never the reverse: it adds itself to the dashboard
    through `tracker.dashboard.register_panel`."""

    name = "ops"
    verbose_name = "Infrastructure checks"

    def ready(self) -> None:
        from tracker.dashboard import register_panel

        from . import panels
        from .checks import registry  # noqa: F401 - registers every check type for the pages, the API and the workers

        register_panel(panels.live_checks)
