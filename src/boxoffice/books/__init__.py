"""Books: balance verification, exports and the data shredder."""
