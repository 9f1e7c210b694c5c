"""``python -m kfsym`` is the ``kfsym`` command."""

import sys

from kfsym.cli import main

sys.exit(main())
