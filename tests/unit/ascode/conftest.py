"""Make ``src/`` importable when the package is not installed into the venv.

``make test`` installs the project in editable mode; running pytest straight
from a fresh checkout should work too.
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("stageline") is None:  # pragma: no cover - depends on the venv
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))
