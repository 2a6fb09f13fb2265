"""Attacks replayed against the app, each asserting that it fails."""
