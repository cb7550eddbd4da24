"""Repositories: typed queries over one table each, given the session explicitly."""
