"""Helpers for the real-browser tests: a private JupyterLab server and its Playwright driving."""
