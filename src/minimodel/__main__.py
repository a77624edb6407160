"""``python -m minimodel quiz 15`` runs the same command as ``minimodel quiz 15``."""

import sys

from minimodel.cli import main

sys.exit(main())
