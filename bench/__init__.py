"""Benchmarks of boxoffice (issue #10): ``python -m bench.run --size small|full [--only NAME]``."""
