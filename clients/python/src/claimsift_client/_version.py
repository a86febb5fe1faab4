"""The client's version: the package metadata (pyproject reads it from here) and the User-Agent."""

__version__ = "0.1.0"
