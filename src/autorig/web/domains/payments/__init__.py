"""Payments through Gumroad: the ping webhook is the only source of credits bought; buy links
carry the person's email in ``url_params[userid]``."""
