"""`python -m app ARGS` runs the `claimsift` command line (the same as the console script)."""

import sys

from app.commands.cli import main

sys.exit(main())
