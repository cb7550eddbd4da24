"""The pipeline every request travels and what every command shares: context, grammar,
registry, effects, the table of command families.
"""
