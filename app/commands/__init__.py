"""The `claimsift` commands, the top layer: thin, through the app in-process or the HTTP client.

``cli`` parses; ``serve``, ``classify``, ``eval`` and ``prepare`` run; ``connect`` and ``inputs`` are the
one client path and the one JSONL reader that ``classify`` and ``eval`` share. Nothing imports them."""
