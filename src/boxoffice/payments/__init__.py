"""Payment and refund attempts: states, the order balance, confirmation and refunds."""
