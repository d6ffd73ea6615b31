"""Long-running work with progress an organizer can watch (bulk cancellation, shredding, imports)."""
