"""Signals for apps built on the tracker (it imports none of them).

`content_replacing` is sent, inside the import's transaction, just before `operation_import(...,
replace=True)` deletes an operation's items to create them again from the document; the
receivers must drop every reference they hold to those items (the delete does not cascade to
them). It passes `operation`. Whatever a receiver returns is handed back through
`content_replaced`, sent once the new items exist, as `state`, so it can link its rows to the
new items (the ops app re-links its checks to the findings, tasks and blockers of the same title).
"""

from django.dispatch import Signal

content_replacing = Signal()
content_replaced = Signal()

# One event happened to an operation (tracker.events): sent with `occurrence`, an
# `events.Occurrence`, inside the transaction that made the change.
event_happened = Signal()
