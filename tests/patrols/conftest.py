"""Patrol tests reuse the small city, its reaches and its people from the clue tests."""

from tests.clues.conftest import client_for, location, people  # noqa: F401 - fixtures and helpers
