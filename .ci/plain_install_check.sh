#!/usr/bin/env bash
# A plain `pip install laura` (no extras) must import: install the project into a fresh venv with only
# [project.dependencies] and import every module of the package. The test extras install redis and
# friends, so the test suite alone cannot see an optional package imported at module level.
#
# Usage: .ci/plain_install_check.sh [python] [venv dir]   (pip's cache makes repeated runs cheap)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-python3}"
venv="${2:-build/plain-venv}"

rm -rf "$venv" build/lib build/bdist.*  # setuptools builds the wheel from build/lib: no stale modules in it
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --no-compile .
# From outside the checkout, so `laura` is the installed package and not ./laura.
cd "$venv"
bin/python - <<'PY'
import importlib
import importlib.resources
import pkgutil
import sys

import laura

failures = []
for module in pkgutil.walk_packages(laura.__path__, "laura.", onerror=lambda name: failures.append((name, "walk"))):
    if module.name == "laura.__main__":  # runs the CLI when imported
        continue
    try:
        importlib.import_module(module.name)
    except Exception as exc:  # noqa: BLE001 - report every module that fails, not just the first
        failures.append((module.name, f"{type(exc).__name__}: {exc}"))
web = importlib.resources.files("laura.web")  # the web app's files are package data: they must ship too
for part in (
    "templates/base.html", "static/app.css", "static/vendor/htmx.min.js", "static/vendor/alpine.min.js",
    "static/vendor/README.md", "locale/pt_BR/LC_MESSAGES/messages.mo", "locale/en/LC_MESSAGES/messages.mo",
):
    if not (web / part).is_file():
        failures.append((f"laura/web/{part}", "not in the installed package"))
if failures:
    for name, error in failures:
        print(f"plain install: cannot import {name}: {error}", file=sys.stderr)
    sys.exit(1)
print(f"plain install: every module of {laura.__file__.rsplit('/', 2)[0]}/laura imports without extras")
PY
