"""``python -m clustaar.webhook``: the ``clustaar-webhook`` command."""
import sys

from .cli import main

sys.exit(main())
