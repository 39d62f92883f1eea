"""What the desk's members pages show: French labels, dates, and the plain rows the
templates render (built here so the templates only print escaped strings); and `render`,
the one way every desk page (inbox, members, editions) is answered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from veille.db.tables import MemberRow
from veille.frenchformat import date_time, short_date
from veille.members import reconsent, subscriptions
from veille.sources import THEME_IDS
from veille.web.auth import NO_STORE, DeskUser
from veille.web.deps import WebContext

FIELD_MAX = 400  # longer than a stored name (200): clean_text cuts, the form never 422s

STATUS_LABELS = {
    "pending": "en attente de confirmation",
    "active": "actif",
    "paused": "suspendu",
    "unsubscribed": "désabonné",
    "bounced": "adresse en échec",
    "complained": "a signalé la lettre comme indésirable",
    "alerts": "alertes seulement",
}
STATUS_GROUPS = {
    "active": "Actifs",
    "pending": "En attente",
    "paused": "Suspendus",
    "unsubscribed": "Désabonnés",
    "bounced": "Adresses en échec",
    "complained": "Plaintes pour indésirable",
    "alerts": "Alertes seulement",
}
# Why a member is `bounced` or `complained` (the kind of their latest bounce event).
BOUNCE_REASONS = {
    "hard": "refus définitif du serveur",
    "soft": "refus temporaires répétés",
    "complaint": "plainte pour courrier indésirable",
}
CONSENT_METHODS = {"form": "formulaire", "import": "import", "desk": "ajout au bureau"}
EVENT_LABELS = {
    "subscribe": "inscription",
    "subscribe_again": "nouvelle demande d’inscription",
    "confirm": "confirmation",
    "themes": "thèmes modifiés",
    "edit": "fiche modifiée",
    "pause": "suspension",
    "resume": "reprise",
    "unsubscribe": "désabonnement",
    "mail_failed": "échec d’envoi d’un e-mail",
    "bounce": "e-mail revenu en erreur",
    "complaint": "plainte pour courrier indésirable",
    "login": "connexion à l’archive",
    "alert_create": "alerte demandée",
    "alert_confirm": "alerte confirmée",
    "alert_change": "alerte modifiée",
    "alert_delete": "alerte supprimée",
    "alert_unsubscribe": "désabonnement d’une alerte",
}
NOTES = {
    "enregistre": "Modifications enregistrées.",
    "inchange": "Aucune modification.",
    "suspendu": "Abonnement suspendu.",
    "repris": "Abonnement repris.",
    "desabonne": "Membre désabonné.",
    "ajoute": "Membre ajouté.",
    "confirmation": "Membre ajouté : un e-mail de confirmation lui est envoyé.",
    "supprime": "Membre supprimé, avec tout son historique.",
}


def themes_label(themes: list[str] | None, labels: Mapping[str, str]) -> str:
    if not themes:
        return "tous"
    return ", ".join(labels.get(t, t) for t in themes)


@dataclass(frozen=True)
class MemberView:
    id: int
    email: str
    name: str
    organisation: str
    status: str
    status_label: str
    themes: str
    consent: str
    last_activity: str
    reconsent: bool
    reconsent_note: str = ""  # who is due, who was asked and when they will be erased


def member_view(
    member: MemberRow, labels: Mapping[str, str], now: datetime, reason: str | None = None
) -> MemberView:
    """`reason`: the kind of the latest bounce of a bounced or complaining member."""
    method = CONSENT_METHODS.get(member.consent_method or "", member.consent_method or "")
    consent = f"{method}, {short_date(member.consent_at)}" if member.consent_at else ""
    return MemberView(
        id=member.id,
        email=member.email,
        name=member.name,
        organisation=member.organisation,
        status=member.status,
        status_label=STATUS_LABELS.get(member.status, member.status)
        + (f" ({BOUNCE_REASONS.get(reason, reason)})" if reason else ""),
        themes=themes_label(member.themes, labels),
        consent=consent or "aucun",
        last_activity=short_date(member.last_activity_at) or "jamais",
        reconsent=subscriptions.needs_reconsent(member, now),
        reconsent_note=reconsent.describe(reconsent.state_of(member, now)),
    )


@dataclass(frozen=True)
class EventView:
    at: str
    label: str
    who: str


def event_view(kind: str, at: datetime, detail: Mapping[str, Any]) -> EventView:
    by = detail.get("by")
    how = detail.get("how") or detail.get("method")
    if kind in ("mail_failed", "bounce", "complaint"):
        who = "serveur de messagerie"
    elif isinstance(by, str) and by not in ("member", ""):
        who = f"bureau : {by}"
    elif how in ("desk", "import"):
        who = "bureau" if how == "desk" else "import"
    else:
        who = "le membre"
    return EventView(date_time(at), EVENT_LABELS.get(kind, kind), who)


def render(
    request: Request,
    ctx: WebContext,
    user: DeskUser,
    template: str,
    status: int = 200,
    **context: Any,
) -> Response:
    """`desk/{template}` with the user and themes every desk page shows, never cached."""
    return ctx.templates.TemplateResponse(
        request,
        f"desk/{template}",
        {
            "user": user,
            "theme_ids": THEME_IDS,
            "theme_labels": ctx.theme_labels,
            **context,
        },
        status_code=status,
        headers=NO_STORE,
    )


def back_to(path: str, note: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'fait': note})}", status_code=303)
