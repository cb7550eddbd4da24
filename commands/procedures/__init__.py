"""/playbook: a plan's emergency playbooks and rollback runbook, run step by step."""
