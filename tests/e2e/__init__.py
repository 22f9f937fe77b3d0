# Lets `python3 -m unittest discover -s tests/e2e -t .` import the modules as tests.e2e.*: they
# import the harness as a top-level module, as they do under `discover -s tests/e2e`.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)
