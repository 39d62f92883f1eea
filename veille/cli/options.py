"""Options several commands declare alike (typer's annotations).

Apart from `common.py` so that what every command shares at run time (consoles, errors,
settings, the database) imports no typer: cron's `veille collect` runs without it
(`cli/entry.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier feeds.yaml (par défaut : VEILLE_CONFIG_FILE)."),
]
