"""Reports: subscriptions and their schedule, metrics and their targets, notes, and the report
as a message.
"""
