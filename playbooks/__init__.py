"""The domain: pure rules and state tables that return effects and never do I/O."""
