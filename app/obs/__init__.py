"""What an operator sees of a running service: metrics, JSON logs and the request context."""
