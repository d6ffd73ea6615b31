"""Payment providers: one plugin interface (``base``), an entry-point registry, built-in providers."""
