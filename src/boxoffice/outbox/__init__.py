"""Background work: jobs queued inside the business transaction, sent after commit, swept when lost."""
