"""Desk accounts: creation, argon2id passwords, one-time setup links, authentication.

Setup links are signed with `settings.secret_key` and carry a digest of the account's
password hash as it was when the link was made: setting a password changes the hash, so the
link works once, and a link made before a later password change is dead too. Because such a
link can set a password, it is refused while the secret key is the shipped default.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veille.config import DEFAULT_SECRET, Settings
from veille.db import users as user_db
from veille.db.tables import UserRow
from veille.desk.passwords import TOP as COMMON_TOP
from veille.desk.passwords import is_common
from veille.errors import MemberError, UserError
from veille.members.subscriptions import normalise_email

ROLES = ("delegate", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing cost must not be chosen by a stranger
SETUP_LINK_MAX_AGE = timedelta(hours=48)
SETUP_SALT = "veille.desk.setup-password"
MIN_SECRET_LENGTH = 16

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


def email_key_of(email: str) -> str:
    """The lookup key of what someone typed in the login form (no validation: an unknown or
    malformed address must be answered exactly like a wrong password)."""
    return email.strip().lower()


def check_password_policy(password: str) -> None:
    if is_common(password):
        top = f"{COMMON_TOP:,}".replace(",", "\u202f")
        raise UserError(
            f"Mot de passe trop courant : il figure parmi les {top} plus utilisés, les "
            "premiers qu'essaie un attaquant. Choisissez une phrase de plusieurs mots."
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"Le mot de passe ne peut pas dépasser {MAX_PASSWORD_LENGTH} caractères.")
    if not password.strip():
        raise UserError("Le mot de passe ne peut pas être fait que d'espaces.")


def hash_password(password: str) -> str:
    """An argon2id hash (`$argon2id$…`) of a password that passes the policy."""
    check_password_policy(password)
    return _hasher.hash(password)


def add_user(
    session: Session,
    email: str,
    role: str = "delegate",
    password: str | None = None,
    *,
    now: datetime,
) -> UserRow:
    """Create an active desk account; without a password, it can only log in after its
    setup link (see `setup_token`) has been used. Flushes, does not commit."""
    if role not in ROLES:
        raise UserError(f"Rôle inconnu « {role} » : choisir parmi {', '.join(ROLES)}.")
    try:  # one rule for every address the project stores: the members' one
        address = normalise_email(email)
    except MemberError as exc:
        raise UserError(str(exc)) from None
    key = address.lower()
    password_hash = hash_password(password) if password is not None else None
    if user_db.user_by_email(session, key) is not None:
        raise UserError(f"Un compte existe déjà pour l'adresse {address}.")
    try:
        return user_db.insert_user(
            session, email=address, email_key=key, role=role, password_hash=password_hash, now=now
        )
    except IntegrityError:  # created meanwhile by someone else; the caller rolls back
        raise UserError(f"Un compte existe déjà pour l'adresse {address}.") from None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("veille: no such account, same work")


def verify_password(session: Session, user: UserRow, password: str) -> bool:
    """Check a password; on success, upgrade the stored hash if the parameters changed."""
    if user.password_hash is None or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        new_hash = _hasher.hash(password)
        user_db.set_password_hash(session, user.id, new_hash)
        session.expire(user, ["password_hash"])
    return True


def authenticate(session: Session, email: str, password: str, now: datetime) -> UserRow | None:
    """The active account these credentials open, else None — the same work is done for an
    unknown address (a dummy hash is checked), so timing does not tell accounts apart."""
    user = user_db.user_by_email(session, email_key_of(email))
    if user is None or user.password_hash is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        return None
    if not verify_password(session, user, password) or not user.active:
        return None
    user_db.record_login(session, user.id, now)
    return user


def set_password(session: Session, user: UserRow, password: str) -> None:
    """Set a new password and end every session of the account. Raises UserError if the
    password changed meanwhile (a setup link used twice at once)."""
    new_hash = hash_password(password)
    if not user_db.replace_password_hash(session, user.id, user.password_hash, new_hash):
        raise UserError("Ce lien a déjà servi : demandez-en un nouveau.")
    session.expire(user, ["password_hash"])
    user_db.delete_user_sessions(session, user.id)


def _check_secret(settings: Settings) -> str:
    key = settings.secret_key
    if key == DEFAULT_SECRET or len(key) < MIN_SECRET_LENGTH:
        raise UserError(
            "VEILLE_SECRET_KEY doit être défini (au moins "
            f"{MIN_SECRET_LENGTH} caractères, pas la valeur par défaut) pour créer des liens "
            "de mot de passe."
        )
    return key


def _serializer(settings: Settings, now: datetime) -> URLSafeTimedSerializer:
    """A serializer whose clock is `now`, so expiry is testable and follows the caller."""

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now.timestamp())

    return URLSafeTimedSerializer(_check_secret(settings), salt=SETUP_SALT, signer=_Signer)


def _hash_digest(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:32]


def setup_token(settings: Settings, user: UserRow, now: datetime) -> str:
    """A 48-hour token for `/desk/mot-de-passe/{token}`, valid until a password is set."""
    return str(
        _serializer(settings, now).dumps({"u": user.id, "h": _hash_digest(user.password_hash)})
    )


def setup_link(settings: Settings, user: UserRow, now: datetime) -> str:
    return f"{settings.base_url.rstrip('/')}/desk/mot-de-passe/{setup_token(settings, user, now)}"


def user_from_setup_token(
    session: Session, settings: Settings, token: str, now: datetime
) -> UserRow:
    """The account a setup token was made for; UserError if it is forged, expired, already
    used, or the account is disabled."""
    refused = "Ce lien n'est pas valable : il a expiré ou a déjà servi. Demandez-en un nouveau."
    try:
        data = _serializer(settings, now).loads(
            token, max_age=int(SETUP_LINK_MAX_AGE.total_seconds())
        )
    except SignatureExpired:
        raise UserError(refused) from None
    except BadSignature:
        raise UserError(refused) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise UserError(refused)
    user = user_db.user_by_id(session, data["u"])
    if user is None or not user.active:
        raise UserError(refused)
    if not hmac.compare_digest(str(data.get("h", "")), _hash_digest(user.password_hash)):
        raise UserError(refused)
    return user
