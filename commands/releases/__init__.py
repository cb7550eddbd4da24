"""/release: every verb of it, and what moves a release without a person.

- ``lifecycle``: start, go, status, promote, pause, resume, applied, approve, rollback,
  retry, abort, history, plans
- ``launch``: checklist, check, uncheck, gonogo, runbook, step, and the launch's timers
- ``windows``: window, freeze
- ``watch``: guard ticks, readings and soaks moving a release on their own
- ``gates``: the gates a start or a retry passes before traffic moves (incidents, guards,
  the window)
- ``freezes``: the incidents that freeze a service's promotions
- ``pages``: what the web console's release pages read (the list, one release with its
  guards' readings cut to the chart's width)
- ``rows``: between stored release rows and the domain
- ``launch_rows``: between stored launch records and the domain, the one deploy-window
  gate and the launch gates of a promotion

The service a command names is found by ``commands.core.named.service_named``.
"""
