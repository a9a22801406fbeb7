"""``python -m simcore`` runs the CLI."""

import sys

from simcore.cli import main

sys.exit(main())
