import sys

from rfloc.cli import main

sys.exit(main())
