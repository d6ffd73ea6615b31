"""Users, organizer team membership, API tokens and permissions."""
