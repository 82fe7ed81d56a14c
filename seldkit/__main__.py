"""``python -m seldkit`` runs the ``seldkit`` command."""

import sys

from seldkit.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
