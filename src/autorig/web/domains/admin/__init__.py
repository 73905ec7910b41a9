"""The admin API (``/api/admin/*``, admins by ``ADMIN_EMAILS``): people and balances, their
tasks, balance adjustments, task restart and delete, workers and the queue, service restart."""
