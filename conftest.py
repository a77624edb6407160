"""Pytest configuration for the whole repository: unit tests and notebooks.

The nbval options live here rather than in addopts so that they hold from any
working directory and for a plain ``pytest path/to/notebook.ipynb``:

* ``--nbval`` (strict): every stored output of every executed cell must reproduce.
* ``--nbval-current-env``: notebooks run in this interpreter (the project's .venv),
  not in whatever kernel named "python3" the machine happens to have.
* ``--nbval-sanitize-with``: the regexes in tests/nbval-sanitize.cfg hide what
  legitimately changes between runs (memory addresses).
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).parent

# Plain tests draw figures without a display.
os.environ.setdefault("MPLBACKEND", "Agg")
# The performance lab times small sizes only under pytest (see minimodel.attention.bench).
os.environ.setdefault("MINIMODEL_BENCH_QUICK", "1")
# The tests import their helpers (reference.py, ...) by module name.
sys.path.insert(0, str(ROOT / "tests"))


def pytest_configure(config):
    option = config.option
    if not option.nbval_lax:
        option.nbval = True
    option.nbval_current_env = True
    if option.nbval_sanitize_with is None:
        option.nbval_sanitize_with = str(ROOT / "tests" / "nbval-sanitize.cfg")
