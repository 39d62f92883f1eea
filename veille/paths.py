"""Where packaged resources live: inside the wheel (`veille/templates`, `veille/alembic`)
or, in a source checkout, at the repository root."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder `name` (templates, alembic) wherever this install keeps it."""
    packaged = PACKAGE_DIR / name
    if packaged.is_dir():
        return packaged
    checkout = PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"veille resource folder '{name}' is missing from this install")
