"""`python -m cli`: the same as the `tandem` command."""

import sys

from cli import main

sys.exit(main())
