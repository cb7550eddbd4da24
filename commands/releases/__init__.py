"""/release: every verb of it, and what moves a release without a person.

- ``lifecycle``: start, go, status, promote, rollback, retry, abort, history, plans
- ``launch``: checklist, check, uncheck, gonogo, runbook, step, and the launch's timers
- ``windows``: window, freeze
- ``watch``: guard ticks, readings and soaks moving a release on their own
- ``gates``: what must hold before traffic moves (incidents, windows, the launch's gates)
- ``rows``, ``launch_rows``: between stored rows and the domain
"""
