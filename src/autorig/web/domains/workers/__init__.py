"""Workers: the pool in ``WORKERS``, what each last reported, and the HTTP client for them."""
