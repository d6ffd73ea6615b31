"""Orders, positions, fees, the audit log, placing and expiry."""
