"""Run every rfloc benchmark and print one table per suite: `python benchmarks/run.py [--json] [--quick]`.

The suites live in `rfloc.bench` (data sampling, training, theory, mean-field map) so that the same code
backs `rfloc bench SUITE`; targets are stated in each suite's docstring and in the README.
"""

import sys

from rfloc.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "all", *sys.argv[1:]]))
