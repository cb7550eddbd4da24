"""Where guard metrics are read: Prometheus in production, a settable source in drills."""
