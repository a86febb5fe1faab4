"""Text handling: from submitted text to sentence spans. Imports no model."""
