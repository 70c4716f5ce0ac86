"""The tracker's models: workspaces, operations and their content, people and webhooks.

One module per area; import them from here (`from tracker.models import Operation`).
"""

from .items import (
    Achievement,
    ActivityEntry,
    Blocker,
    Challenge,
    CheckBacked,
    Decision,
    Finding,
    LiveVerdict,
    Note,
    Operation,
    Phase,
    PhaseStatus,
    ProgressSnapshot,
    Quote,
    Status,
    Task,
    TimeStamped,
    percent_field,
    title_field,
    validate_single_line,
)
from .people import Membership, PublicLink
from .webhooks import Webhook, WebhookDelivery
from .workspace import Workspace, WorkspaceMembership

__all__ = [
    "Achievement",
    "ActivityEntry",
    "Blocker",
    "Challenge",
    "CheckBacked",
    "Decision",
    "Finding",
    "LiveVerdict",
    "Membership",
    "Note",
    "Operation",
    "Phase",
    "PhaseStatus",
    "ProgressSnapshot",
    "PublicLink",
    "Quote",
    "Status",
    "Task",
    "TimeStamped",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
    "WorkspaceMembership",
    "percent_field",
    "title_field",
    "validate_single_line",
]
