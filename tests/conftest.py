import os
import sys

from hypothesis import settings

# Test files using Python 3.12-only syntax (PEP 695 generic kernels) must not even be
# imported on older interpreters: collecting them would raise a SyntaxError.
collect_ignore_glob = ["*_py312.py"] if sys.version_info < (3, 12) else []

# CI runs the same examples every time (a failure there is reproducible); local runs explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
