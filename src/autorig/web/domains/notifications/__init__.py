"""Email: an outbox table written with the decision, sent by the mailer service after commit."""
