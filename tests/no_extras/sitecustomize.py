"""Put on PYTHONPATH to make a Python process behave like a plain `pip install laura`: every top-level module
named in BLOCKED_IMPORTS (comma-separated; the optional and test-only packages) fails to import as if it
were not installed."""

import os
import sys

_BLOCKED = frozenset(name for name in os.environ.get("BLOCKED_IMPORTS", "").split(",") if name)


class _NotInstalled:
    """A meta-path finder that answers first and refuses the blocked names."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (blocked: not in a plain install)", name=fullname
            )


sys.meta_path.insert(0, _NotInstalled())
