"""Bank transfer: transfer references, statement parsing, matching and SEPA refund files."""
