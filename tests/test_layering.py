"""The floors of the package, checked from the source (docs/architecture.md, « Floors »).

Every import points down: a module may import its own floor or a lower one, never a higher
one — not lazily inside a function and not under `TYPE_CHECKING` either, since both still
tie the lower floor to the higher one's changes. Imports between the top-level packages of
one floor are allowed but must not form a cycle. The checker reads the AST only, so it needs
no import of the project and sees every import statement wherever it sits.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "veille"

# Each top-level module or package of `veille` and its floor, lowest first. A new top-level
# name must be placed here on purpose: an unplaced one fails the test.
FLOORS: dict[str, int] = {
    # 0 — the ground: settings, errors, where files live, French text and fingerprints.
    "veille": 0,  # veille/__init__.py: the version and the user agent
    "errors": 0,
    "configfile": 0,
    "paths": 0,
    "config": 0,
    "config_env": 0,  # VEILLE_* read without pydantic (cron's nothing-due collect)
    "frenchformat": 0,
    "text": 0,
    # 1 — the feeds.yaml schema and all SQL: they need the ground only.
    "sources": 1,
    "db": 1,
    # 2 — the stages over the store.
    "collect": 2,
    "classify": 2,
    "members": 2,
    "mail": 2,
    "feedsfile": 2,
    # 3 — what is built on the stages' results.
    "archive": 3,
    "desk": 3,
    "newsletter": 3,
    # 4 — the entry points: the only packages that know requests, terminals and ticks.
    "web": 4,
    "cli": 4,
    "scheduler": 4,
    "server": 4,
    "demo": 4,
    "__main__": 4,
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str:
    """The top-level name a module belongs to: `veille.db.articles` → `db`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of the project in one file, at any depth."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top = root.name
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == top or alias.name.startswith(top + "."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target != top and not target.startswith(top + "."):
                continue
            if target == top:
                # `from veille import db` imports the subpackage; `from veille import
                # USER_AGENT` a name of the package's own __init__.
                for alias in node.names:
                    is_module = (root / alias.name).is_dir() or (root / f"{alias.name}.py").exists()
                    yield node.lineno, f"{top}.{alias.name}" if is_module else top
            else:
                yield node.lineno, target


def violations(root: Path, floors: dict[str, int]) -> list[str]:
    """Upward imports, unplaced names and cycles between top-level units, as sentences."""
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        source = module_name(path, root)
        unit = unit_of(source)
        if unit not in floors:
            problems.append(f"{source}: top-level name {unit!r} has no floor in FLOORS")
            continue
        for line, target in imports_of(path, root):
            target_unit = unit_of(target)
            if target_unit not in floors:
                problems.append(f"{source}:{line} imports {target}, which has no floor")
                continue
            if floors[target_unit] > floors[unit]:
                problems.append(
                    f"{source}:{line} imports {target}: floor {floors[unit]} ({unit}) "
                    f"may not import floor {floors[target_unit]} ({target_unit})"
                )
            if target_unit != unit:
                edges.setdefault(unit, set()).add(target_unit)
    problems.extend(f"cycle between packages: {' → '.join(c)}" for c in cycles(edges))
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of units (Tarjan), enough to name the fault."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append([*sorted(group), sorted(group)[0]])

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_import_of_the_project_points_down() -> None:
    assert violations(PACKAGE, FLOORS) == []


def test_no_module_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = root / "veille" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root / "veille"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("from veille.web import app\n", "floor 1 (db) may not import floor 4 (web)"),
        ("def f():\n    import veille.web.app\n", "floor 1 (db) may not import floor 4 (web)"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..web import app\n",
         "floor 1 (db) may not import floor 4 (web)"),
        ("from veille import web\n", "floor 1 (db) may not import floor 4 (web)"),
    ],
)
def test_a_planted_upward_import_is_found(tmp_path: Path, body: str, expected: str) -> None:
    root = _plant(tmp_path, {
        "__init__.py": "", "db/__init__.py": "", "db/planted.py": body,
        "web/__init__.py": "", "web/app.py": "",
    })
    found = violations(root, FLOORS)
    assert len(found) == 1 and expected in found[0] and "veille.db.planted" in found[0]


def test_a_cycle_within_a_floor_is_found(tmp_path: Path) -> None:
    root = _plant(tmp_path, {
        "__init__.py": "", "collect/__init__.py": "from veille.classify import model\n",
        "classify/__init__.py": "", "classify/model.py": "from veille.collect import x\n",
    })
    assert violations(root, FLOORS) == ["cycle between packages: classify → collect → classify"]


def test_an_unplaced_top_level_name_is_refused(tmp_path: Path) -> None:
    root = _plant(tmp_path, {"__init__.py": "", "helpers.py": ""})
    assert violations(root, FLOORS) == [
        "veille.helpers: top-level name 'helpers' has no floor in FLOORS"
    ]
