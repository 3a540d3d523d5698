"""Signals other systems listen to, so that reporting does not import them."""

from django.dispatch import Signal

#: Sent after a report's status or content changed in the workflow (submit, approve, accept, return, revise,
#: lock). Arguments: report, action (the audit action name). Receivers that act outside the transaction use transaction.on_commit.
report_changed = Signal()
