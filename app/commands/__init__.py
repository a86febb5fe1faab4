"""The `claimsift` commands: thin, through the app (in-process) or the HTTP client."""
