"""What a change causes besides its audit entry: the one table from audit actions to reactions.

:func:`boxoffice.orders.audit.record` looks an entry's :class:`~boxoffice.orders.audit.Action` up
here and runs its reactions in the same transaction, in the order listed. Every side effect of a
change is therefore written down once, in this table: an e-mail queued (``queue_mails``, which
asks :func:`boxoffice.mail.rules.mails_for` which ones), an outgoing webhook event
(``send_webhook``, for the actions that are ``webhooks.rules.EVENT_TYPES``), a refund job
(``queue_late_payment_refund``). Renaming an action is a type error here, never a silently
dropped mail. Like :mod:`boxoffice.models_registry`, this module sits above the domains it wires.
"""

from __future__ import annotations

from boxoffice.mail.reactions import queue_mails
from boxoffice.orders.actions import Action
from boxoffice.orders.audit import ReactionTable
from boxoffice.orders.expiry import queue_late_payment_refund
from boxoffice.webhooks.reactions import collect as send_webhook

REACTIONS: ReactionTable = {
    Action.ORDER_PLACED: (queue_mails, send_webhook),
    Action.ORDER_PAID: (queue_mails, send_webhook),
    Action.ORDER_PENDING: (send_webhook,),
    Action.ORDER_EXPIRED: (send_webhook,),
    Action.ORDER_CANCELED: (send_webhook,),
    Action.ORDER_CHANGED: (send_webhook,),
    Action.ORDER_OVERPAID: (queue_mails,),
    Action.ORDER_QUOTA_EXCEEDED: (queue_mails, queue_late_payment_refund),
    Action.PAYMENT_PENDING: (queue_mails,),
    Action.PAYMENT_CONFIRMED: (send_webhook,),
    Action.PAYMENT_FAILED: (queue_mails, send_webhook),
    Action.REFUND_CREATED: (send_webhook,),
    Action.REFUND_DONE: (queue_mails, send_webhook),
    Action.REFUND_EXTERNAL: (queue_mails, send_webhook),
}
