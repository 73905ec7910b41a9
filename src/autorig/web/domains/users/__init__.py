"""People: sign-in by emailed link or Google, sessions in a signed cookie, anonymous visitors
(a signed browser id and their IP), admins by email (``ADMIN_EMAILS``)."""
