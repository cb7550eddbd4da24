"""On call: /oncall, pages and their escalation (/page, /ack, /escalate, /pages, /resolve), ack
reminders, page budgets and handoffs.
"""
