"""Incidents: the lifecycle, severity policies and SLA clocks, how they read, and alerts turned
into incidents.
"""
