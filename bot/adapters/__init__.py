"""Adapters: each translates between one chat platform and Invocation/Message."""
