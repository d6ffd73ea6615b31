"""Cross-cutting HTTP plumbing of the JSON:API: the caller and its unit of work, idempotency keys,
login rate limiting, and tenant-safe loading of resources."""
