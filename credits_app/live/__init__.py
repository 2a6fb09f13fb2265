"""Live balance updates pushed into every open tab of a user."""
