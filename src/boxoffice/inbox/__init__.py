"""Incoming provider callbacks: verify, store once, answer, process by id, sweep what was missed."""
