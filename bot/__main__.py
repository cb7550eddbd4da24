"""``python -m bot`` is the same as the ``shipwatch`` command."""

import sys

from bot.cli import main

sys.exit(main())
