"""The process's entry point (`veille`, `python -m veille`): cron's plain `veille collect`
without typer, every other command line through the typer app (`cli/root.py`).

Cron starts `veille collect` every few minutes, and most of those runs find nothing due
(benchmarks/collect_tick.py). Through typer, such a run imported typer and its vendored
click, then built a pydantic adapter for each of the command's four options before the
command ran: ~0.1 s of CPU, a third of a run that answers « nothing due » in ~0.3 s. The
command lines cron and scripts write — `collect` with `--all`, `--json`, `--source KEY`
(`-s`, repeated), `--config PATH` (`-c`), each value as the next word or after « = » — are
read here and handed to the command's body (`cli/cycle.collect`) as typer would hand them;
a domain error ends the same way (`common.say_error`, exit code 1), and so do an interrupt
(130) and a closed pipe (1). Anything else — `--help`, an unknown or repeated option, a
value that looks like an option, shell completion — goes to typer, which parses it as
before and says what is wrong in its own words. tests/test_cli_entry.py runs both ways on
the same command lines and compares what they print and their exit codes.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CollectArgs:
    """`veille collect`'s options, as its typer command receives them."""

    config: Path | None = None
    sources: list[str] | None = None
    all_: bool = False
    json_out: bool = False


_FLAGS = ("--all", "--json")
_SOURCE = ("--source", "-s")
_CONFIG = ("--config", "-c")


def plain_collect(args: Sequence[str]) -> CollectArgs | None:
    """The options of `veille ARGS` when ARGS is `collect` with options of the plain forms
    above; None for any other command line, which typer parses."""
    if not args or args[0] != "collect":
        return None
    flags: set[str] = set()
    sources: list[str] = []
    config: str | None = None
    rest = list(args[1:])
    while rest:
        word = rest.pop(0)
        if word in _FLAGS:
            if word in flags:
                return None
            flags.add(word)
            continue
        name, equals, value = word.partition("=")
        if not equals:
            if word not in _SOURCE + _CONFIG or not rest:
                return None
            name, value = word, rest.pop(0)
        elif not name.startswith("--"):  # `-s=x`: click reads « =x » as the value
            return None
        if not value or value.startswith("-"):  # typer decides what that means
            return None
        if name in _SOURCE:
            sources.append(value)
        elif name in _CONFIG and config is None:
            config = value
        else:
            return None
    return CollectArgs(
        config=Path(config) if config is not None else None,
        sources=sources or None,
        all_="--all" in flags,
        json_out="--json" in flags,
    )


def completing(environ: Mapping[str, str]) -> bool:
    """Whether a shell asks for completions (typer's `_<PROG>_COMPLETE` variable)."""
    return any(name.startswith("_") and name.endswith("_COMPLETE") for name in environ)


def run_collect(args: CollectArgs) -> int:
    """Run `veille collect` as its typer command would; the process's exit code."""
    from veille.cli import cycle
    from veille.cli.common import say_error
    from veille.errors import VeilleError

    try:
        cycle.collect(args.config, args.sources, args.all_, args.json_out)
    except VeilleError as exc:
        say_error(exc)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # The reader went away (`veille collect --json | head`): exit 1 without a second
        # error when the interpreter flushes stdout at exit, as click does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0


def main() -> None:
    """`veille …`: exits with the command's code."""
    args = plain_collect(sys.argv[1:])
    if args is None or completing(os.environ):
        from veille.cli import app

        app()
        return
    sys.exit(run_collect(args))
