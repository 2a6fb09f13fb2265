"""Launching the app's processes (simulator, Reflex) and waiting until they serve."""
