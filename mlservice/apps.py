from django.apps import AppConfig


class MlserviceConfig(AppConfig):
    """Model registry and inference endpoints (issue 6). Empty until then."""

    name = "mlservice"
    verbose_name = "ML service"
