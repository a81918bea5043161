"""The patrol API, one module per resource."""
