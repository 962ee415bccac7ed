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
pyproject="$PWD/pyproject.toml"
cd "$venv"
PYPROJECT="$pyproject" bin/python - <<'PY'
import importlib
import importlib.metadata
import importlib.resources
import os
import pkgutil
import re
import sys
import tomllib

import laura

failures = []
for module in pkgutil.walk_packages(laura.__path__, "laura.", onerror=lambda name: failures.append((name, "cannot import: walk"))):
    if module.name == "laura.__main__":  # runs the CLI when imported
        continue
    try:
        importlib.import_module(module.name)
    except Exception as exc:  # noqa: BLE001 - report every module that fails, not just the first
        failures.append((module.name, f"cannot import: {type(exc).__name__}: {exc}"))
# A package named by an optional extra but pulled in by a dependency anyway is in this venv, so the imports
# above cannot show that laura works without it: it belongs in [project.dependencies].
extras = tomllib.loads(open(os.environ["PYPROJECT"]).read())["project"]["optional-dependencies"]
for extra, requirements in extras.items():
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        if extra != "test" and name != "laura":
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                continue
            failures.append((name, f"in the {extra!r} extra, yet a plain install has it: make it a dependency"))
web = importlib.resources.files("laura.web")  # the web app's files are package data: they must ship too
for part in (
    "templates/base.html", "static/app.css", "static/vendor/htmx.min.js", "static/vendor/alpine.min.js",
    "static/vendor/README.md", "locale/pt_BR/LC_MESSAGES/messages.mo", "locale/en/LC_MESSAGES/messages.mo",
):
    if not (web / part).is_file():
        failures.append((f"laura/web/{part}", "not in the installed package"))
if failures:
    for name, error in failures:
        print(f"plain install: {name}: {error}", file=sys.stderr)
    sys.exit(1)
print(f"plain install: every module of {laura.__file__.rsplit('/', 2)[0]}/laura imports without extras")
PY
