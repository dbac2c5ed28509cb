"""``python -m ticketflow``: the command line."""

import sys

from ticketflow.cli import main

sys.exit(main())
