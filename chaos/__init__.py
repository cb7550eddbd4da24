"""The crash-safety harness: kill -9 a real ``shipwatch run`` under load and check that
nothing it acknowledged was lost (``python -m chaos``; not part of the package)."""
