"""Commands about Shipwatch and the person asking: /help, /whoami, /me, /remind, /admin,
/audit, /config.
"""
