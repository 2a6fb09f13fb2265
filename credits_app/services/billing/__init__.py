"""Stripe billing: catalogue, checkout, portal, subscriptions and webhook effects."""
