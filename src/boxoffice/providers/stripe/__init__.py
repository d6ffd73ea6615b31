"""Stripe: card payments through PaymentIntents. ``gateway`` is the wire layer over the official SDK."""
