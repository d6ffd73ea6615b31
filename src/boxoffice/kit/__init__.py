"""Small shared building blocks: money, JSON:API documents, clock, ids."""
