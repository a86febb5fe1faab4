"""HTTP layer: thin routes, request guards and the error boundary."""
