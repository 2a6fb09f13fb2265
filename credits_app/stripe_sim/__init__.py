"""A stateful, Stripe-compatible simulator for offline development and tests."""
