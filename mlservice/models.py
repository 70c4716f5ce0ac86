"""The model registry: registered models, their versions (one skops artifact each) and aliases.

Rows are written by `mlservice.registry` only. A version's `trusted_types` is the list a person
approved at registration; loading uses it and never a list read from the artifact itself.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

OUTPUT_CHOICES = ("predict", "predict_proba")

sha256_validator = RegexValidator(r"^[0-9a-f]{64}\Z", "A sha256 is 64 lowercase hexadecimal digits.")


class RegisteredModel(models.Model):
    """A model a workspace serves. Its name is its URL (`/v2/models/<name>`), so it is unique on the
    instance; only members of its workspace can read its metadata or call it."""

    workspace = models.ForeignKey("tracker.Workspace", on_delete=models.PROTECT, related_name="ml_models")
    name = models.SlugField(max_length=100, unique=True)
    operation = models.ForeignKey(
        "tracker.Operation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ml_models",
        help_text="The rollout this model belongs to: its dashboard shows the model's endpoints.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=50)
    artifact_uri = models.CharField(max_length=1000, help_text="s3://bucket/key or an absolute local path.")
    sha256 = models.CharField(max_length=64, validators=[sha256_validator])
    sklearn_version = models.CharField(max_length=30)
    sklearn_version_recorded = models.BooleanField(
        default=True,
        help_text="False when the artifact did not record it: the version is then the one that ran the registration.",
    )
    n_features = models.PositiveIntegerField()
    dtype = models.CharField(max_length=20, default="float64")
    feature_names = models.JSONField(null=True, blank=True)
    outputs = models.JSONField(default=list)
    # [{"name", "datatype", "shape"}] per output, in the Open Inference Protocol's terms; read
    # from the fitted model at registration, so metadata never needs a load.
    output_schema = models.JSONField(default=list)
    trusted_types = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("model", "-created_at")
        constraints = [models.UniqueConstraint(fields=("model", "version"), name="mlservice_version_unique_per_model")]

    def __str__(self) -> str:
        return f"{self.model.name}:{self.version}"


class ModelAlias(models.Model):
    """A name (e.g. `production`) pointing at one version of its model; moving it is an update."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.SlugField(max_length=50)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="aliases")
    # The version this alias last served from a successful load: the fallback when the version it
    # points at cannot be loaded (in a fresh process too, which has nothing in memory yet).
    last_good = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("model", "name")
        constraints = [models.UniqueConstraint(fields=("model", "name"), name="mlservice_alias_unique_per_model")]
        verbose_name_plural = "model aliases"

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"
