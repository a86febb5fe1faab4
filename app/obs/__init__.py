"""What an operator sees of a running service: metrics, JSON logs and the request context.

Below everything that serves, so the API, the batcher's observer and the lifespan may all use it; it
imports nothing of the app."""
