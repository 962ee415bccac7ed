"""The import rules of ARCHITECTURE.md, kept by the import-linter contracts in pyproject.toml."""

import subprocess
import sys
from pathlib import Path


def test_import_contracts_are_kept():
    root = Path(__file__).resolve().parents[1]
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], check=False, cwd=root, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_task_module_is_registered_by_the_composition_root():
    from laura.app import TASK_MODULES

    package = Path(__file__).resolve().parents[1] / "laura"
    found = {".".join(p.relative_to(package.parent).with_suffix("").parts) for p in package.rglob("tasks.py")}
    assert found <= set(TASK_MODULES), found - set(TASK_MODULES)


def test_no_source_file_of_the_package_is_over_400_lines():
    """STYLE: small modules with one job. Vendored files (their authors' builds) are not ours to split."""
    package = Path(__file__).resolve().parents[1] / "laura"
    sources = [
        path
        for path in package.rglob("*")
        if path.suffix in {".py", ".sql", ".html", ".js", ".css"} and "vendor" not in path.parts
    ]
    too_long = {
        str(path.relative_to(package)): n
        for path in sources
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert sources and not too_long, too_long
