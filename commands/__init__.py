"""The application layer: every request that changes state is a command."""
