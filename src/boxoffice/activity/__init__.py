"""The organizer's activity log: who changed which event, product, quota, team member or token."""
