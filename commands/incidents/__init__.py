"""/incident, alerts from monitoring opening, joining and resolving incidents, heartbeats,
maintenance windows, an incident's room, follow-up actions and response figures.

- ``incident``: open, triage, ack, sev, assign, update, note, done, notify, start,
  mitigate, resolve, reopen, close, list, show, timeline, postmortem
- ``actions``: action add, list, done, drop, and their reminders
- ``stats``: stats, the response figures
- ``public``: public-title (``update --public`` is in ``incident``)
- ``alerts``: Alertmanager, Grafana and missed heartbeats as incidents
- ``heartbeats``: /heartbeats and the beat check; ``maintenance``: /maintenance
- ``rooms``: an incident's own conversation
- ``console``: what the web console reads (the list's page, an incident's page)
"""
