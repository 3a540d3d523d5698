"""Helpers for running the test suite, such as a throw-away PostgreSQL server (`tradepilot.testing.postgres`)."""
