from django.apps import AppConfig


class MlserviceConfig(AppConfig):
    """Model registry and inference endpoints (Open Inference Protocol v2). It may import tracker,
    never the reverse: its dashboard panel is added through `tracker.dashboard.register_panel`."""

    name = "mlservice"
    verbose_name = "ML service"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from tracker.dashboard import register_panel
        from tracker.workspace_sections import register_workspace_section

        from . import access, panels, serving
        from .models import ModelAlias

        post_delete.connect(access.forget_token, sender=Token, dispatch_uid="mlservice.forget_token")
        post_save.connect(serving.alias_saved, sender=ModelAlias, dispatch_uid="mlservice.alias_saved")
        register_panel(panels.ml_endpoints, freshness=panels.freshness)
        register_workspace_section(panels.workspace_models)
