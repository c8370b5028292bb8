"""``python -m mammokit ...``: the same as the ``mammokit`` command (:mod:`mammokit.cli`)."""
import sys

from mammokit.cli import main

if __name__ == "__main__":
    sys.exit(main())
