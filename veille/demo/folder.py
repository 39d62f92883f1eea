"""What the demo keeps in its folder so that a restart is the same demo: the sample site's
port (`site-port.txt`) beside the database, feeds.yaml and the secret (`secret.txt`, see
`veille.server.demo_secret`).

Why the port: an article is known by its URL, and the sample site's URLs carry its port.
A site served on a new port each time made every article look new, so each restart of
`veille demo` added the whole sample site to the archive again. The first run lets the
system pick a free port and writes it down; later runs serve on that port again. When it is
taken (another demo still running, or some other program), the site is served on a free
port for this run only and the delegate is told that this run's articles will be collected
anew; the remembered port is kept, so the next run on a free port finds the archive's URLs.
Ignoring the port in URL keys was rejected: two ports of one host are two sites.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from veille.demo.site import DemoSite, start_demo_site
from veille.errors import ConfigError

SITE_PORT_FILE = "site-port.txt"


@dataclass(frozen=True)
class StartedSite:
    """The running site, and a French sentence for the delegate when it had to move."""

    site: DemoSite
    notice: str | None = None


def remembered_port(workdir: Path) -> int | None:
    """The port written by an earlier run, None on a first run; a file edited into
    something that is not a port is a ConfigError (it is never overwritten silently)."""
    path = workdir / SITE_PORT_FILE
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8").strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigError(
            f"{path} : « {text} » n'est pas un numéro de port (1 à 65535). Corrigez-le, ou "
            "supprimez le fichier pour que la démo en choisisse un (ses articles seront "
            "alors collectés à nouveau)."
        )
    return int(text)


def start_site_in(
    workdir: Path, host: str = "127.0.0.1", *, now: datetime | None = None
) -> StartedSite:
    """Serve the demo site on the folder's port (chosen and written down on a first run)."""
    kept = remembered_port(workdir)
    if kept is None:
        site = start_demo_site(host, 0, now=now)
        (workdir / SITE_PORT_FILE).write_text(f"{_port_of(site)}\n", encoding="utf-8")
        return StartedSite(site)
    try:
        return StartedSite(start_demo_site(host, kept, now=now))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
    site = start_demo_site(host, 0, now=now)
    notice = (
        f"Le port {kept} du site de démo est occupé (une autre démo tourne-t-elle dans ce "
        f"dossier ?) : le site sert cette fois sur le port {_port_of(site)}. Ses adresses "
        "changent, donc ses articles seront collectés une seconde fois. Le port "
        f"{kept} reste celui de la démo : arrêtez ce qui l'occupe avant la prochaine fois."
    )
    return StartedSite(site, notice)


def _port_of(site: DemoSite) -> int:
    return int(site.base_url.rsplit(":", 1)[1])
