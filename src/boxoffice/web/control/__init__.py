"""The organizer's control panel under ``/control/``: login, dashboard, orders, bank transfers, settings."""
