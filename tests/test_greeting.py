"""The letter's one greeting: the wording's rules, how it reads for each member in both parts
of the real mail (on, off, another wording, no name), and that each draft copies it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate
from tests.test_newsletter_render import LINKS, mail_settings, sample_view
from veille.db.engine import transaction
from veille.newsletter import editions, edits, greeting
from veille.newsletter.editions import EditionError
from veille.newsletter.render import Renderer, edito_html, edito_text


def test_the_wording_is_cleaned_and_checked() -> None:
    assert greeting.clean("  Bonjour   {prenom} ,", True) == "Bonjour {prénom} ,"
    assert greeting.clean("Chère {NOM},", True) == "Chère {nom},"
    assert greeting.clean("", False) == ""
    with pytest.raises(EditionError, match=re.escape("« {prenon} » n’est pas reconnu")):
        greeting.clean("Bonjour {prenon},", True)
    with pytest.raises(EditionError, match="décochez"):
        greeting.clean("   ", True)
    with pytest.raises(EditionError, match="200 caractères"):
        greeting.clean("x" * 201, True)


@pytest.mark.parametrize(
    ("wording", "name", "expected"),
    [
        ("Bonjour {prénom},", "Marie Dupont", "Bonjour Marie,"),
        ("Bonjour {prénom},", "", "Bonjour,"),
        ("Bonjour {prénom},", None, "Bonjour,"),
        ("Chère lectrice, cher lecteur,", "Marie Dupont", "Chère lectrice, cher lecteur,"),
        ("{prénom}, bonjour !", "Jean-Pierre Martin", "Jean-Pierre, bonjour !"),
        ("Madame, Monsieur {nom},", "  Anne   Le Gall ", "Madame, Monsieur Anne Le Gall,"),
    ],
)
def test_how_the_greeting_reads(wording: str, name: str | None, expected: str) -> None:
    assert greeting.shown(True, wording, name) == expected
    assert greeting.shown(False, wording, name) == ""


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_one_greeting_in_both_parts_of_the_mail() -> None:
    renderer = Renderer(sample_view(greeting="Chère {prénom}, cher {nom},"), mail_settings())
    mail = renderer.render(("open_data",), LINKS, "Zoé <b>Martin</b>")
    assert mail is not None
    assert "Chère Zoé, cher Zoé &lt;b&gt;Martin&lt;/b&gt;," in mail.html
    assert "Chère Zoé, cher Zoé <b>Martin</b>," in mail.text
    assert "Bonjour" not in mail.text + mail.html  # the old hard-coded greeting is gone
    nameless = renderer.render(("open_data",), LINKS, "")
    assert nameless is not None and "Chère, cher," in nameless.text


def test_no_greeting_when_it_is_off() -> None:
    view = sample_view(greeting_on=False, greeting="Bonjour {prénom},")
    mail = Renderer(view, mail_settings()).render(("open_data",), LINKS, "Zoé")
    assert mail is not None
    assert "Bonjour" not in mail.text + mail.html and "Zoé" not in mail.text + mail.html
    # the edito follows the period line directly
    lines = _lines(mail.text)
    period = next(i for i, line in enumerate(lines) if line.startswith("Voir dans le navigateur"))
    assert lines[period + 1].startswith("Cette semaine")


def test_the_text_part_keeps_the_editos_paragraphs() -> None:
    html = edito_html(
        "Premier paragraphe, **gras**.\n\nSecond, avec [un lien](https://a.example/x)\n"
        "sur deux lignes.\n\n- un\n- deux\n\n## Un titre\n\nFin."
    )
    assert edito_text(html) == (
        "Premier paragraphe, gras.\n\n"
        "Second, avec un lien (https://a.example/x)\nsur deux lignes.\n\n"
        "– un\n– deux\n\n"
        "Un titre\n\n"
        "Fin."
    )
    assert edito_text("texte <b>libre</b><p>bloc</p>suite") == "texte libre\n\nbloc\n\nsuite"


def test_each_draft_copies_the_last_greeting(sessions: sessionmaker[Session]) -> None:
    populate(sessions)
    with transaction(sessions) as session:
        first = editions.create_draft(session, now=NOW)
        assert (first.greeting, first.greeting_on) == ("Bonjour {prénom},", True)
        assert edits.update_greeting(
            session, first, enabled=False, wording="Salut {prenom} !", actor="d", now=NOW
        )
        assert (first.greeting, first.greeting_on) == ("Salut {prénom} !", False)
        assert not edits.update_greeting(
            session, first, enabled=False, wording="Salut {prénom} !", actor="d", now=NOW
        )
        second = editions.create_draft(session, now=NOW)
        assert (second.greeting, second.greeting_on) == ("Salut {prénom} !", False)
        # off with an empty wording keeps the wording for when it is turned on again
        edits.update_greeting(session, second, enabled=False, wording="", actor="d", now=NOW)
        assert second.greeting == "Salut {prénom} !"
