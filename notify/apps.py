from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "notify"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tracker.dashboard import register_links
        from tracker.signals import event_happened
        from tracker.workspace_sections import register_workspace_section

        from . import links, sections, services, targets

        event_happened.connect(services.event_happened, dispatch_uid="notify.event_happened")
        register_workspace_section(sections.workspace_channels)
        register_links(links.operation_links)
        # Apprise's own lines can quote a URL's token: they never reach the process log
        # (notify.targets keeps a send's lines, masked, as its delivery's error).
        targets.silence_apprise()
