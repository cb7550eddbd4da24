"""On call: rotations, teams, pages and their escalation, page budgets and handoffs."""
