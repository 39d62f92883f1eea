"""VERP: every newsletter delivery carries its own return path, so a bounce names it.

A refusal that comes back days later, from a server that rewrote or forgot the recipient,
still arrives at `bounces+e12m345-0123456789abcdef@exemple.fr`: edition 12, member 345,
and a MAC under the secret key, so nobody can forge a bounce that unsubscribes someone
else. The `mailto:` of `List-Unsubscribe` gets its own token (`u…`), so a mail sent to it
is an unsubscribe request and never mistaken for a bounce (and vice versa).

Tokens are stateless (nothing stored per delivery) and lower-case hexadecimal, because
some mail systems lower-case the local part. Rotating `VEILLE_SECRET_KEY` invalidates the
tokens of mails already sent: bounces for them are then left in the mailbox, unmatched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache

from veille.config import Settings
from veille.errors import ConfigError
from veille.mail.message import as_address

BOUNCE = "e"  # the envelope sender of a delivery
UNSUBSCRIBE = "u"  # the mailto: of List-Unsubscribe
_MAC_CHARS = 16  # 64 bits: guessing needs ~10^19 mails to the mailbox
_TOKEN = re.compile(r"\+([eu])(\d{1,9})m(\d{1,12})-([0-9a-f]{16})@", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    """What a verified VERP address names."""

    purpose: str  # BOUNCE or UNSUBSCRIBE
    edition_number: int
    member_id: int


def _mac(secret: str, purpose: str, edition_number: int, member_id: int) -> str:
    key = hashlib.sha256(b"veille-verp\0" + secret.encode()).digest()
    message = f"{purpose}:{edition_number}:{member_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_MAC_CHARS]


def token(settings: Settings, purpose: str, edition_number: int, member_id: int) -> str:
    mac = _mac(settings.secret_key, purpose, edition_number, member_id)
    return f"{purpose}{edition_number}m{member_id}-{mac}"


@lru_cache(maxsize=8)
def _base(bounce_address: str, mail_from: str) -> tuple[str, str]:
    """(local part, domain) of the return path, checked once per configuration."""
    if bounce_address.strip():
        try:
            address = as_address(bounce_address.strip())
        except ValueError:
            raise ConfigError(
                f"VEILLE_BOUNCE_ADDRESS {bounce_address!r} is not an e-mail address."
            ) from None
        if address.display_name or not address.domain:
            raise ConfigError(
                f"VEILLE_BOUNCE_ADDRESS {bounce_address!r} must be a bare address "
                "(bounces@exemple.fr)."
            )
        return address.username, address.domain
    domain = as_address(mail_from).domain or "localhost"
    return "bounces", domain


def verp_address(settings: Settings, purpose: str, edition_number: int, member_id: int) -> str:
    """`local+TOKEN@domain` of `VEILLE_BOUNCE_ADDRESS` (default bounces@<mail_from domain>)."""
    local, domain = _base(settings.bounce_address, settings.mail_from)
    return f"{local}+{token(settings, purpose, edition_number, member_id)}@{domain}"


def bounce_address(settings: Settings, edition_number: int, member_id: int) -> str:
    return verp_address(settings, BOUNCE, edition_number, member_id)


def unsubscribe_address(settings: Settings, edition_number: int, member_id: int) -> str:
    return verp_address(settings, UNSUBSCRIBE, edition_number, member_id)


def find_tokens(settings: Settings, text: str) -> list[Token]:
    """Every genuine token in `text` (header values, a returned message), in order, each
    once; forged or mangled ones are dropped."""
    found: list[Token] = []
    for match in _TOKEN.finditer(text[:200_000]):
        purpose = match.group(1).lower()
        edition_number, member_id = int(match.group(2)), int(match.group(3))
        expected = _mac(settings.secret_key, purpose, edition_number, member_id)
        if not hmac.compare_digest(expected, match.group(4).lower()):
            continue
        candidate = Token(purpose, edition_number, member_id)
        if candidate not in found:
            found.append(candidate)
    return found
