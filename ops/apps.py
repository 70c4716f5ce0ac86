from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Live AWS checks. It may import tracker and core, never the reverse: it adds itself to the
    dashboard through `tracker.dashboard.register_panel`, and its check lag to /metrics through
    `core.metrics.register_collector`."""

    name = "ops"
    verbose_name = "Infrastructure checks"

    def ready(self) -> None:
        from core.metrics import register_collector
        from tracker.dashboard import register_panel
        from tracker.signals import content_replaced, content_replacing
        from tracker.workspace_sections import register_workspace_section

        from . import metrics, panels, relink
        from .checks import registry  # noqa: F401 - registers every check type for the pages, the API and the workers

        register_panel(panels.live_checks)
        register_workspace_section(panels.workspace_environments)
        content_replacing.connect(relink.hold_links, dispatch_uid="ops.hold_links")
        content_replaced.connect(relink.relink, dispatch_uid="ops.relink")
        register_collector("checks", metrics.check_gauges)
