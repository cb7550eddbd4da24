"""Coordinating a launch: the checklist, the Go/No-Go matrix, deploy windows and freezes, the
launch's clocks and how they read.
"""
