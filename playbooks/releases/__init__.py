"""Releases: the state machine, the plans' stages and guards, watching a live release, what
holds one back.
"""
