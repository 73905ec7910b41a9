"""API keys: ``Authorization: Bearer <key>`` for scripts, created, named, listed and revoked by
their owner; shown once, stored as a SHA-256 hash."""
