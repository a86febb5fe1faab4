"""Training and export: what only the train and template commands import (needs the [torch] extra)."""
