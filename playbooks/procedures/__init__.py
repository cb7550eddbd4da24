"""Procedures run step by step under a clock: rollback runbooks and emergency playbooks."""
