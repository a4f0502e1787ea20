"""Parse: text to typed columns (see architecture.md)."""
