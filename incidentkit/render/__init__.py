"""Render: findings, frames and investigations as a reader sees them — cards, tables, plots,
the report's files and the postmortem."""
