"""The clue API, one module per resource."""
