"""The pipeline every request travels and what every command shares: context, grammar,
registry, effects. It imports no command room; ``commands.table`` assembles them.
"""
