"""``python -m axonic.compat run script.py [args]``: a PyTorch script on axonic."""

import sys

from axonic.compat.run import main

if __name__ == "__main__":
    sys.exit(main())
