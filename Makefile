# The README's two commands: `make run` and `make test`. Both set up .venv on a fresh machine that has
# only Python 3.11 and make. `make fmt` formats and applies ruff's safe fixes; `make lint` (ruff check, ruff
# format --check, mypy) runs before the suite; the import contracts run inside it (tests/test_architecture.py).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed
PLAIN_VENV := build/plain-venv
PLAIN_STAMP := build/.plain-install-checked
PACKAGE_FILES := $(shell find laura -type f -not -path '*/__pycache__/*')

.PHONY: run test lint fmt check-plain-install browser messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

# A plain `pip install .` (no extras) in a fresh venv imports every module of the package; skipped while
# pyproject.toml and laura/ are unchanged since the last pass (a fresh clone always runs it).
$(PLAIN_STAMP): pyproject.toml $(PACKAGE_FILES) .ci/plain_install_check.sh
	.ci/plain_install_check.sh $(PYTHON) $(PLAIN_VENV)
	touch $(PLAIN_STAMP)

check-plain-install: $(PLAIN_STAMP)

run: $(STAMP)
	$(VENV)/bin/laura up --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format
	$(VENV)/bin/ruff check --fix

# The suite runs on every core (pytest-xdist): each test has its own database cloned from a template per
# worker, so tests never share state; a 2-core machine runs it in about two thirds of the serial time.
# The browser tests (tests/browser) drive Debian's Chromium by its path (Playwright's own browser download is
# not used): installed here when it is missing and apt-get is usable as root; elsewhere nothing is
# installed and those tests skip, saying why.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
		|| { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } \
		|| echo "chromium could not be installed: the browser tests will skip"; \
	fi

test: $(STAMP) check-plain-install lint browser
	$(VENV)/bin/python -m pytest -q -n auto

# The web app's texts: extract them from laura/web (Python and templates), merge them into each language's
# catalogue (laura/web/locale/<lang>/LC_MESSAGES/messages.po, translate the new entries there), compile .mo.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F laura/web/babel.cfg -k N_ --no-location --sort-output --no-wrap --project=laura \
		-o laura/web/locale/messages.pot laura/web
	$(VENV)/bin/pybabel update -i laura/web/locale/messages.pot -d laura/web/locale --no-fuzzy-matching --no-wrap --ignore-obsolete
	$(VENV)/bin/pybabel compile -d laura/web/locale

clean:
	rm -rf $(VENV) .laura build
