"""Text handling: HTML extraction with its parse-cost guard, sentence segmentation, offsets.

Pure: imports no model, nothing above it; only the service uses it."""
