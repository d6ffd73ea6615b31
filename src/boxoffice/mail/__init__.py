"""E-mails to buyers and organizers: queued once per cause, rendered from templates, sent over SMTP."""
