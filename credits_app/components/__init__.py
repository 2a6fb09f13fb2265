"""Reusable UI pieces: the page template, the navigation bar, small widgets."""
