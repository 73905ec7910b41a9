"""Credits: balances, the ledger that explains them, and paying for downloads."""
