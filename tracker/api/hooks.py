"""An operation's outgoing webhooks and their delivery log, for its admins.

The secret is in the response to the POST that creates a webhook and nowhere else: no serializer
but `WebhookCreatedSerializer` has the field, and the list's queryset does not even load it.
"""

from __future__ import annotations

import django_filters as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from .. import webhooks
from ..models import Webhook, WebhookDelivery
from ..permissions import Role
from .base import ItemViewSet, OperationScoped, StrictModelSerializer
from .filters import MAX_ID

EVENTS_HELP = "Event names to send; empty for every event."


class WebhookSerializer(StrictModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=webhooks.EVENT_CHOICES), required=False, help_text=EVENTS_HELP
    )
    last_status = serializers.CharField(read_only=True, allow_null=True, help_text="Of the latest delivery.")
    last_delivery_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "events",
            "label",
            "active",
            "last_status",
            "last_delivery_at",
            "created_at",
            "updated_at",
            "updated_by",
        ]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The HMAC-SHA256 key of X-SnailTrail-Signature. Shown in this response only: keep it now.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookViewSet(ItemViewSet):
    """Webhooks of the operation. Each delivery is a JSON POST signed with
    `X-SnailTrail-Signature: sha256=<HMAC-SHA256 of the body>`, sent after the change commits and
    retried with backoff; targets must be https and public addresses."""

    model = Webhook
    serializer_class = WebhookSerializer
    read_role = write_role = Role.ADMIN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return webhooks.webhooks_of(operation=self.operation).select_related("updated_by")

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request, *args, **kwargs):
        given = WebhookSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        webhook, secret = webhooks.webhook_create(operation=self.operation, actor=request.user, **given.validated_data)
        webhook.secret = secret
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def save_changes(self, item, data):
        webhooks.webhook_update(webhook=item, actor=self.request.user, **data)
        return self.get_queryset().get(pk=item.pk)  # with its latest delivery's status

    def remove(self, item) -> None:
        webhooks.webhook_delete(webhook=item, actor=self.request.user)


class DeliverySerializer(serializers.ModelSerializer):
    webhook = serializers.IntegerField(source="webhook_id", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "delivery_id",
            "webhook",
            "event",
            "status",
            "attempts",
            "response_status",
            "response_excerpt",
            "error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "payload",
        ]


class DeliveryFilter(filters.FilterSet):
    webhook = filters.NumberFilter(field_name="webhook_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event"]


class DeliveryViewSet(OperationScoped, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The delivery log, latest first: what was sent, how often, and what the receiver answered."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    read_role = write_role = Role.ADMIN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return webhooks.deliveries_of(operation=self.operation)
