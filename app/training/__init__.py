"""Offline work, outside the serving path: training the adapted default model, cross-validation, and the
scores (macro-F1, ECE) that training and `claimsift eval` report. Only the commands import it; it may
use the model and the bottom modules, never main, the API or the service."""
