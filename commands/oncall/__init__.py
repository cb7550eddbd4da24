"""On call: /oncall, pages and their escalation (/page, /ack, /escalate, /resolve, /pages),
ack reminders, page budgets and handoffs.

- ``rotations``: /oncall
- ``pages``: /page, /ack, /escalate, /resolve, /pages
- ``paging``: starting, loading and saving pages; the escalation when a step is due
- ``ack_reminders``: the timer reminding whoever acknowledged
- ``budget``: each person's page budget, and the fold at a window's end
- ``handoff``: the handoff timer
- ``board``: what the web console's on-call page reads
"""
