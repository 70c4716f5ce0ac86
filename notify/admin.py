"""Admin: channels without their URL (never shown after saving), the delivery log, reports."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Channel, Delivery, Follow, ReportSchedule, StatusReport


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "shown_url", "operation", "workspace", "paused_at", "consecutive_failures"]
    # The ciphertext is no secret without the key, but there is nothing to read in it either.
    exclude = ["url_ciphertext"]

    def has_delete_permission(self, request, obj=None):
        return True


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "channel", "recipient", "status", "attempts"]
    list_filter = ["status", "event"]


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnlyAdmin):
    list_display = ["title", "operation", "trigger", "created_at"]


admin.site.register(Follow, ReadOnlyAdmin)
admin.site.register(ReportSchedule)
