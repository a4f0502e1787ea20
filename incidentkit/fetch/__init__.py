"""Fetch: AWS -> tidy frames (CloudWatch metrics and logs, Logs Insights, the change timeline,
health and alarms), through the one guarded client of :mod:`incidentkit.fetch.aws`."""
