"""Reporting: derives the bulletin's metrics, the live dashboard and the bulletin from events."""
