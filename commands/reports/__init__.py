"""/summary: the morning health post and the daily and weekly reports, by hand and on
schedule.

- ``summary``: now, subscribe, list, unsubscribe
- ``notes``: note, and asking for the notes before a report runs
- ``runs``: a subscription's timer firing, and the readings coming back
- ``configured``: the subscriptions summaries.yaml asks for, made at start-up
- ``state``: what a report says about incidents, releases and on call
- ``archive``: reports as they were posted, read back for the web console
"""
