"""Tickets: position secrets, PDF tickets with QR codes, check-in lists and scans at the door."""
