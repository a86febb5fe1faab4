"""The HTTP layer: thin routes, guards, auth, middleware and the error boundary (the one error body).

Below main, above the service: it may use the service, batching (stage timings), obs and the bottom
modules, never main or the commands."""
