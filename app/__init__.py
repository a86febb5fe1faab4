"""claimsift: label each sentence of an article as fact, assessment or prescription."""

__version__ = "0.1.0"
