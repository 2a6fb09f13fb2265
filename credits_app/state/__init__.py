"""Reflex states: thin handlers that call services and copy plain values into vars."""
