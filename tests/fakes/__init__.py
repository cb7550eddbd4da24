"""Fakes that implement Shipwatch's own protocols, shared by the tests."""
