"""The backend: tasks, the queue that dispatches jobs to free workers, progress, email.

Layout: ``app.py`` builds the FastAPI app; ``db/`` holds the engine, sessions and the one module
with dialect differences; ``models/`` one ORM table per file; ``domains/<name>/`` a feature
package each (endpoints, service, repository, schemas); ``services/`` the background loops;
``storage/`` local directory or S3; ``migrations/`` Alembic. Talks to workers only over HTTP
through ``autorig.protocol``.
"""
