"""``python -m fastloss``: the same as the ``fastloss`` command (see :mod:`fastloss.cli`)."""

import sys

from fastloss.cli import main

if __name__ == "__main__":  # importing this module (e.g. to document it) runs nothing
    sys.exit(main())
