"""The fixed layout of ARCHITECTURE.md section 1 and the dependency rule between the three packages."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"domain": "mlsgroup.domain", "projections": "mlsgroup.projections", "infrastructure": "mlsgroup.infrastructure"}
IMPURE_MODULES = {"os", "sys", "sqlite3", "socket", "random", "secrets", "time", "threading", "asyncio", "subprocess", "psycopg"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *relative.parts]))
    assert found == listed


def test_domain_imports_no_outer_layer_and_no_io() -> None:
    for path in (ROOT / "domain").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert not name.startswith(("mlsgroup.projections", "mlsgroup.infrastructure")), (path, name)
            assert top not in IMPURE_MODULES, (path, name)
            assert not name.startswith(("eventsourcing.sqlite", "eventsourcing.postgres", "eventsourcing.popo", "eventsourcing.application", "eventsourcing.persistence")), (path, name)


def test_mls_core_knows_nothing_of_xmtp() -> None:
    for path in (ROOT / "domain" / "mls").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("mlsgroup.domain"):
                assert name.startswith("mlsgroup.domain.mls"), (path, name)


def test_projections_do_not_import_infrastructure() -> None:
    for path in (ROOT / "projections").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith("mlsgroup.infrastructure"), (path, name)
