"""``python -m fastloss``: the same as the ``fastloss`` command (see :mod:`fastloss.cli`)."""

import sys

from fastloss.cli import main

sys.exit(main())
