"""Plain helper functions and fixtures' building blocks for the test suite."""
