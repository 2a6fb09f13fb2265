"""Business logic: plain functions over a database session, with no web framework imports."""
