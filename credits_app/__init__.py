"""Credits: a self-hostable, Stripe-backed credit system for AI products."""
