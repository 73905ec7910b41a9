"""Feature packages: each has endpoints.py (thin), service.py, repository.py, schemas.py."""
