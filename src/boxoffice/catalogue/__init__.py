"""Organizers, events, products and the quotas they share."""
