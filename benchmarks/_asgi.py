"""One checkout's archive app driven in this process, for the benchmarks that compare
two checkouts' answers (`distinct_cpu.py` times them, `same_pages.py` compares them).

Each measurement runs in a child process whose `PYTHONPATH` picks the checkout
(`child_env`); inside it, `inline_app` builds that checkout's app with route threads run
inline, so `time.process_time` around a request counts all of its work.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def child_env(store: Path, code: Path) -> dict[str, str]:
    """The environment of a child serving `store` with `code`'s app (no VEILLE_* leaks in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    env["VEILLE_DATABASE_URL"] = f"sqlite:///{store}"
    env["VEILLE_CONFIG_FILE"] = str(ROOT / "feeds.yaml")
    env["VEILLE_SECRET_KEY"] = secrets.token_urlsafe(32)
    env["PYTHONPATH"] = str(code)
    return env


def inline_app() -> Any:
    """This checkout's app with anyio's worker threads replaced by inline calls."""
    import anyio.to_thread

    async def inline(func, *args, **_kw):  # type: ignore[no-untyped-def]
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    from veille.web.app import app_from_env

    return app_from_env()
