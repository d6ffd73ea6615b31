"""What an operator sees of a running boxoffice: logs with request ids, access logs and Prometheus metrics."""
