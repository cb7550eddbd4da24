"""Commands about Shipwatch and the person asking.

- ``help``: /help, /whoami
- ``me``: /me
- ``reminders``: /remind, /reminders
- ``admin``: /admin, /audit, /config
- ``web``: /web
"""
