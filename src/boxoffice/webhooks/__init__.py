"""Outgoing webhooks: organizers' endpoints, signed deliveries, retries for up to three days, a log."""
