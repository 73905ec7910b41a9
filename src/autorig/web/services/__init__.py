"""Background loops of the backend: dispatch, progress, mailer. Each implements ``run_once()``."""
