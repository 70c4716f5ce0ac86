"""Every change to the tracker, one function per action (house style rule 2).

The importer, the admin, the pages, the API and the workers call these and nothing else to
write. Each validates, saves, and records an `ActivityEntry` naming who changed what from what to
what, in the same transaction. Callers use the package (`from tracker import services;
services.task_tick(...)`); the modules are its seams:

- `activity`: the activity log (`activity_record`), who acts (`Actor`, `attributed`), security events;
- `base`: the generic create, update and delete, and the progress history they keep;
- `operations`: operations and their addresses;
- `items`: phases, tasks, blockers and the other items;
- `edits`: the typed writes people make (tick, untick, rename, move, and each item's edit);
- `people`: memberships of an operation and its public links;
- `workspaces`: workspaces and their members;
- `imports`: an operation made from a parsed document.
"""

from .activity import IMPORT_NAME, Actor, Item, _user, activity_record, attributed
from .base import _create, item_delete, item_update, progress_record
from .edits import (
    KEEP,
    Keep,
    achievement_edit,
    blocker_edit,
    decision_edit,
    finding_edit,
    phase_edit,
    task_edit,
    task_move,
    task_rename,
    task_tick,
    task_untick,
)
from .imports import BULK_BATCH, AddressTaken, OperationExists, operation_import
from .items import (
    achievement_create,
    blocker_open,
    blocker_reopen,
    blocker_resolve,
    challenge_create,
    decision_create,
    finding_create,
    item_mark_checked,
    item_record_check,
    note_create,
    phase_create,
    phase_update,
    quote_create,
    task_create,
    task_set_done,
    task_update,
)
from .operations import (
    RESERVED_SLUGS,
    operation_create,
    operation_delete,
    operation_set_current_phase,
    operation_update,
    operations_touch,
)
from .people import membership_deleted, membership_remove, membership_set, public_link_create, public_link_revoke
from .workspaces import (
    workspace_create,
    workspace_for_command,
    workspace_member_remove,
    workspace_member_set,
    workspace_update,
)

__all__ = [
    "BULK_BATCH",
    "IMPORT_NAME",
    "KEEP",
    "Keep",
    "RESERVED_SLUGS",
    "Actor",
    "AddressTaken",
    "Item",
    "OperationExists",
    "_create",
    "_user",
    "achievement_create",
    "achievement_edit",
    "activity_record",
    "attributed",
    "blocker_edit",
    "blocker_open",
    "blocker_reopen",
    "blocker_resolve",
    "challenge_create",
    "decision_create",
    "decision_edit",
    "finding_create",
    "finding_edit",
    "item_delete",
    "item_mark_checked",
    "item_record_check",
    "item_update",
    "membership_deleted",
    "membership_remove",
    "membership_set",
    "note_create",
    "operation_create",
    "operation_delete",
    "operation_import",
    "operation_set_current_phase",
    "operation_update",
    "operations_touch",
    "phase_create",
    "phase_edit",
    "phase_update",
    "progress_record",
    "public_link_create",
    "public_link_revoke",
    "quote_create",
    "task_create",
    "task_edit",
    "task_move",
    "task_rename",
    "task_set_done",
    "task_tick",
    "task_untick",
    "task_update",
    "workspace_create",
    "workspace_for_command",
    "workspace_member_remove",
    "workspace_member_set",
    "workspace_update",
]
