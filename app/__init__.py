"""claimsift: label each sentence of an article as fact, assessment or prescription.

Every import points one way, down this list (pyproject's import-linter contract, tests/test_layers.py):

    commands/            the `claimsift` command line: serve, classify, eval, prepare (and train)
    training/ | main     offline training and scores | create_app and the lifespan's Engine
    client | api/        the Python client | routes, guards, auth, middleware, the error body
    service              documents → cache → batcher → labels
    batching | cache     the one inference thread | the sentence cache
    text/ | model/       HTML, sentences, offsets | the Backend protocol, backends, encoders, loader
    obs/                 metrics, JSON logs, the request context
    schemas | settings | errors
"""

__version__ = "0.1.0"
