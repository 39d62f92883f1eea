"""Mail templates (`templates/email/`): an HTML part from a base layout wrapping a content
block, with its CSS inlined (css-inline) because Gmail and Outlook drop or ignore much of a
`<style>` sheet, and a plain-text twin rendered from its own template."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from veille.paths import resource_dir


@dataclass(frozen=True)
class RenderedMail:
    html: str
    text: str


@lru_cache(maxsize=1)
def email_env() -> Environment:
    """HTML templates autoescaped (article titles and names are untrusted), text not."""
    return Environment(
        loader=FileSystemLoader(str(resource_dir("templates") / "email")),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    # keep_at_rules: the dark-mode and narrow-screen @media rules cannot be inlined and
    # must stay in the head for the clients that honour them.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return str(_inliner().inline(html))


def render_mail(name: str, context: dict[str, Any]) -> RenderedMail:
    """`name` without extension: renders `name.html` (inlined) and `name.txt`."""
    env = email_env()
    html = env.get_template(f"{name}.html").render(**context)
    text = env.get_template(f"{name}.txt").render(**context)
    return RenderedMail(html=inline_css(html), text=text)
