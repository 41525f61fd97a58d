"""``python -m rnnzoo.cli``: the ``rnnzoo`` command without the console script."""

import sys

from rnnzoo.cli import main

sys.exit(main())
