"""Fetch: AWS to tidy frames, nothing else (see architecture.md)."""
