"""The config directory: each YAML file's schema, the references between files, and the errors
explained.
"""
