"""The members' CSV reader and writer, on the files French spreadsheets really produce."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from veille.errors import ImportFileError
from veille.members.csvfile import (
    LineError,
    MemberLine,
    read_members_csv,
    write_members_csv,
)

EXPECTED = "(attendus : open_data, ia, donnees_interet_general)"


def read(data: bytes | str) -> list[MemberLine | LineError]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(read_members_csv(io.BytesIO(raw)))


def errors(results: list[MemberLine | LineError]) -> list[LineError]:
    return [r for r in results if isinstance(r, LineError)]


def members(results: list[MemberLine | LineError]) -> list[MemberLine]:
    return [r for r in results if isinstance(r, MemberLine)]


# --- encodings and separators ---------------------------------------------------------------


def test_utf8_bom_semicolon() -> None:
    data = "\ufeffemail;nom;organisation\r\nanne@exemple.fr;Anne Étienne;Ville de Brest\r\n"
    assert read(data.encode("utf-8")) == [
        MemberLine(2, "anne@exemple.fr", "Anne Étienne", "Ville de Brest", None)
    ]


def test_cp1252_file() -> None:
    data = (
        "email;nom;organisation\r\n"
        "leo@exemple.fr;Léo Cœur;Communauté d’agglomération\r\n"
        "zoe@exemple.fr;Zoé Œil;Métropole\r\n"
    ).encode("cp1252")
    assert read(data) == [
        MemberLine(2, "leo@exemple.fr", "Léo Cœur", "Communauté d’agglomération", None),
        MemberLine(3, "zoe@exemple.fr", "Zoé Œil", "Métropole", None),
    ]


def test_latin1_bytes_undefined_in_cp1252_do_not_stop_the_file() -> None:
    data = b"email;nom\nab@exemple.fr;Jos\x81\nc@exemple.fr;Ren\xe9\n"
    assert [(m.line, m.name) for m in members(read(data))] == [(2, "Jos\x81"), (3, "René")]


def test_cp1252_after_a_long_ascii_start() -> None:
    """The first accented byte far past any sniffing window is still decoded right."""
    lines = ["email,nom"] + [f"u{i}@exemple.fr,Nom {i}" for i in range(5000)]
    lines.append("elise@exemple.fr,Élise Dubœuf")
    result = read(("\n".join(lines) + "\n").encode("cp1252"))
    assert not errors(result)
    assert result[-1] == MemberLine(5002, "elise@exemple.fr", "Élise Dubœuf", "", None)


def test_file_mixing_utf8_and_cp1252_lines() -> None:
    data = (
        b"email;nom\n" + "h@exemple.fr;Hélène\n".encode() + "g@exemple.fr;Gaëlle\n".encode("cp1252")
    )
    assert [m.name for m in members(read(data))] == ["Hélène", "Gaëlle"]


def test_utf16_tab_separated_excel_unicode_text() -> None:
    data = "email\tnom\tthèmes\r\nmia@exemple.fr\tMia Søren\tia\r\n".encode("utf-16")
    assert read(data) == [MemberLine(2, "mia@exemple.fr", "Mia Søren", "", ("ia",))]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings(newline: str) -> None:
    data = newline.join(["email,nom", "a@exemple.fr,A", "", "b@exemple.fr,B", ""])
    assert [(m.line, m.email) for m in members(read(data))] == [
        (2, "a@exemple.fr"),
        (4, "b@exemple.fr"),
    ]


def test_semicolon_file_with_quoted_comma_themes() -> None:
    data = 'email;nom;organisation;themes\na@exemple.fr;A;Org;"open_data,ia"\n'
    assert read(data)[0].themes == ("open_data", "ia")  # type: ignore[union-attr]


def test_semicolon_file_with_unquoted_comma_themes() -> None:
    data = "email;nom;organisation;themes\na@exemple.fr;A;Org;ia, open_data\n"
    assert read(data)[0].themes == ("open_data", "ia")  # type: ignore[union-attr]


def test_comma_file_with_quoted_pipe_and_comma_themes() -> None:
    data = (
        "email,nom,organisation,themes\n"
        'a@exemple.fr,A,Org,"open_data|ia"\n'
        'b@exemple.fr,B,Org,"donnees_interet_general, IA"\n'
    )
    assert [m.themes for m in members(read(data))] == [
        ("open_data", "ia"),
        ("ia", "donnees_interet_general"),
    ]


def test_comma_file_with_unquoted_comma_themes_in_last_column() -> None:
    """The extra cells of a forgotten quote are themes: not silently dropped."""
    data = "email,nom,organisation,themes\na@exemple.fr,A,Org,open_data,ia\n"
    assert read(data)[0].themes == ("open_data", "ia")  # type: ignore[union-attr]


def test_themes_missing_or_empty_mean_all_and_match_case_insensitively() -> None:
    data = (
        "email;themes\n"
        "a@exemple.fr;\n"
        "b@exemple.fr\n"
        "c@exemple.fr; | \n"
        "d@exemple.fr; Open-Data | DONNEES_INTERET_GENERAL |open_data\n"
    )
    assert [m.themes for m in members(read(data))] == [
        None,
        None,
        None,
        ("open_data", "donnees_interet_general"),
    ]


def test_custom_theme_list() -> None:
    data = b"email;themes\na@exemple.fr;climat\nb@exemple.fr;ia\n"
    result = list(read_members_csv(io.BytesIO(data), themes=["climat"]))
    assert result == [
        MemberLine(2, "a@exemple.fr", "", "", ("climat",)),
        LineError(3, "thème inconnu : ia (attendus : climat)"),
    ]


# --- header -----------------------------------------------------------------------------------


def test_french_header_aliases_and_unknown_column_ignored() -> None:
    data = "Courriel;Nom;Téléphone;Structure;Thèmes\na@exemple.fr;Anne;01 02 03 04 05;Mairie;ia\n"
    assert read(data) == [MemberLine(2, "a@exemple.fr", "Anne", "Mairie", ("ia",))]


@pytest.mark.parametrize(
    "header",
    [
        "E-mail,Name,Organization,Themes",
        "MAIL,Prénom Nom,Collectivité,THÈMES",
        '"Adresse e-mail","Nom complet","Organisme","Thématiques"',
    ],
)
def test_other_header_aliases(header: str) -> None:
    data = f"{header}\na@exemple.fr,Anne,Mairie,ia\n"
    assert read(data) == [MemberLine(2, "a@exemple.fr", "Anne", "Mairie", ("ia",))]


def test_separate_first_name_and_name_columns_are_joined() -> None:
    data = "Prénom;Nom;Email\nAnne;Martin;a@exemple.fr\n;Seul;b@exemple.fr\n"
    assert [m.name for m in members(read(data))] == ["Anne Martin", "Seul"]


def test_empty_file_is_rejected() -> None:
    with pytest.raises(ImportFileError, match="vide"):
        read(b"")


def test_blank_only_file_is_rejected() -> None:
    with pytest.raises(ImportFileError, match="vide"):
        read("\ufeff\r\n  \r\n;;;\r\n")


def test_missing_email_column_is_rejected_naming_the_columns() -> None:
    with pytest.raises(ImportFileError) as info:
        read("\n\nnom;organisation\nAnne;Mairie\n")
    assert str(info.value) == (
        "Ligne 3 : l'en-tête n'a pas de colonne d'adresse e-mail (attendu : email, e-mail, "
        "courriel ou mail ; colonnes trouvées : nom, organisation)."
    )


def test_errors_raise_at_call_time_and_close_the_path(tmp_path: Path) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError):
        read_members_csv(path)


def test_header_only_gives_no_lines() -> None:
    assert read("email;nom;organisation;themes\r\n") == []


def test_one_column_header_takes_the_separator_of_the_first_line() -> None:
    data = "email\na@exemple.fr;Anne;Mairie\n"
    assert read(data) == [MemberLine(2, "a@exemple.fr", "", "", None)]


# --- lines and line numbers ---------------------------------------------------------------------


def test_quoted_newlines_keep_physical_line_numbers() -> None:
    data = (
        "email;nom;organisation\n"  # 1
        'a@exemple.fr;Anne;"Communauté de communes\n'  # 2
        'du Haut-Jura"\n'  # 3
        "\n"  # 4
        'b@exemple.fr;"Bruno\n'  # 5
        "\n"  # 6
        'Martin";Mairie\n'  # 7
        "pas-une-adresse;Claire;Org\n"  # 8
        "d@exemple.fr;Denis;Org\n"  # 9
    )
    assert read(data) == [
        MemberLine(2, "a@exemple.fr", "Anne", "Communauté de communes du Haut-Jura", None),
        MemberLine(5, "b@exemple.fr", "Bruno Martin", "Mairie", None),
        LineError(8, "adresse e-mail invalide : pas-une-adresse (il manque le @)"),
        MemberLine(9, "d@exemple.fr", "Denis", "Org", None),
    ]


def test_blank_lines_are_ignored_but_counted() -> None:
    data = "\n\nemail,nom\n\n,\n   \na@exemple.fr,A\n ,  \nbad,B\n"
    assert read(data) == [
        MemberLine(7, "a@exemple.fr", "A", "", None),
        LineError(9, "adresse e-mail invalide : bad (il manque le @)"),
    ]


def test_duplicate_emails_in_different_case() -> None:
    data = (
        "email;nom\n"
        "Anne.Martin@Exemple.FR;Anne\n"
        "anne.martin@exemple.fr;Anne bis\n"
        "ANNE.MARTIN@EXEMPLE.FR;Anne ter\n"
    )
    assert read(data) == [
        MemberLine(2, "Anne.Martin@exemple.fr", "Anne", "", None),
        LineError(3, "adresse en double : anne.martin@exemple.fr (déjà ligne 2)"),
        LineError(4, "adresse en double : ANNE.MARTIN@exemple.fr (déjà ligne 2)"),
    ]
    assert members(read(data))[0].key == "anne.martin@exemple.fr"


def test_duplicate_of_a_rejected_line_is_imported() -> None:
    """« déjà ligne N » always points at an imported line."""
    data = "email;themes\na@exemple.fr;xyz\nA@exemple.fr;ia\n"
    assert read(data) == [
        LineError(2, f"thème inconnu : xyz {EXPECTED}"),
        MemberLine(3, "A@exemple.fr", "", "", ("ia",)),
    ]


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("", "adresse e-mail manquante"),
        ("jean.dupont", "adresse e-mail invalide : jean.dupont (il manque le @)"),
        ("jean@@exemple.fr", "adresse e-mail invalide : jean@@exemple.fr (plusieurs @)"),
        ("jean dupont@exemple.fr", "adresse e-mail invalide : jean dupont@exemple.fr "
         "(contient une espace)"),
        ("@exemple.fr", "adresse e-mail invalide : @exemple.fr (rien avant le @)"),
        ("jean@", "adresse e-mail invalide : jean@ (rien après le @)"),
        ("jean@exemple", "adresse e-mail invalide : jean@exemple (domaine sans point)"),
        ("jean..d@exemple.fr", "adresse e-mail invalide : jean..d@exemple.fr"),
        ("Jean <j@exemple.fr>", "adresse e-mail invalide : Jean <j@exemple.fr> "
         "(contient une espace)"),
    ],
)  # fmt: skip
def test_invalid_emails(email: str, reason: str) -> None:
    data = f'email;nom\n"{email}";Jean\nok@exemple.fr;Ok\n'
    assert read(data) == [LineError(2, reason), MemberLine(3, "ok@exemple.fr", "Ok", "", None)]


def test_email_is_stripped_and_domain_lower_cased() -> None:
    data = "email\n  Jean.Dupont@Mairie-Brest.FR \u00a0\n"
    (member,) = members(read(data))
    assert member.email == "Jean.Dupont@mairie-brest.fr"
    assert member.key == "jean.dupont@mairie-brest.fr"


def test_unknown_themes() -> None:
    data = "email;themes\na@exemple.fr;open_data|culture\nb@exemple.fr;sport, culture,x\n"
    assert read(data) == [
        LineError(2, f"thème inconnu : culture {EXPECTED}"),
        LineError(3, f"thèmes inconnus : sport, culture, x {EXPECTED}"),
    ]


def test_all_problems_of_a_line_in_one_reason() -> None:
    data = f"email;nom;organisation;themes\nbad;{'n' * 201};{'o' * 250};zz\n"
    assert read(data) == [
        LineError(
            2,
            "adresse e-mail invalide : bad (il manque le @) ; "
            "nom trop long : 201 caractères (200 au plus) ; "
            "organisation trop longue : 250 caractères (200 au plus) ; "
            f"thème inconnu : zz {EXPECTED}",
        )
    ]


def test_fields_of_200_characters_are_accepted() -> None:
    data = f"email;nom;organisation\na@exemple.fr;{'n' * 200};{'o' * 200}\n"
    assert not errors(read(data))


def test_extra_and_missing_cells() -> None:
    data = (
        "email;nom;organisation\n"
        "a@exemple.fr;A;Org;;;\n"
        "b@exemple.fr;B;Org;en trop;encore\n"
        "c@exemple.fr\n"
    )
    assert read(data) == [
        MemberLine(2, "a@exemple.fr", "A", "Org", None),
        MemberLine(3, "b@exemple.fr", "B", "Org", None),
        MemberLine(4, "c@exemple.fr", "", "", None),
    ]


def test_unclosed_quote_is_reported_with_the_lines_it_swallowed() -> None:
    lines = ["email;nom", 'a@exemple.fr;"Anne'] + [f"u{i}@exemple.fr;U" for i in range(30)]
    assert read("\n".join(lines) + "\n") == [
        LineError(2, "enregistrement de 31 lignes (lignes 2 à 32) : "
                  "un guillemet n'est sans doute pas fermé"),
    ]  # fmt: skip


def test_huge_field_is_a_line_error_and_reading_goes_on() -> None:
    data = 'email;nom\na@exemple.fr;"' + "x" * 200_000 + "\nb@exemple.fr;B\n"
    result = read(data)
    assert len(result) == 2
    assert isinstance(result[0], LineError)
    assert result[0].line == 2
    assert result[0].reason.startswith("ligne illisible")
    assert result[1] == MemberLine(3, "b@exemple.fr", "B", "", None)


# --- volume and streaming ----------------------------------------------------------------------


def test_100000_lines(tmp_path: Path) -> None:
    path = tmp_path / "membres.csv"
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write("Courriel;Nom;Structure;Thèmes\r\n")
        for i in range(100_000):
            out.write(
                f"membre{i}@commune-{i % 977}.fr;Agent n°{i};Mairie d’Évry {i};ia|open_data\r\n"
            )
    count = 0
    last = None
    for result in read_members_csv(path):
        assert isinstance(result, MemberLine), result
        count += 1
        last = result
    assert count == 100_000
    assert last == MemberLine(
        100_001, "membre99999@commune-345.fr", "Agent n°99999", "Mairie d’Évry 99999",
        ("open_data", "ia"),
    )  # fmt: skip


class _EndlessCsv(io.RawIOBase):
    """A pipe-like stream that never ends and counts what was read from it."""

    def __init__(self) -> None:
        self.sent = 0
        self.pending = b"email;nom\n"
        self.next_line = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while len(self.pending) < len(buffer):
            self.pending += f"m{self.next_line}@exemple.fr;M\n".encode()
            self.next_line += 1
        size = len(buffer)
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        self.sent += size
        return size


def test_reading_streams() -> None:
    stream = _EndlessCsv()
    results = read_members_csv(stream)  # type: ignore[arg-type]
    first = [next(results) for _ in range(1000)]
    assert first[-1] == MemberLine(1001, "m999@exemple.fr", "M", "", None)
    assert stream.sent < 200_000


# --- writer ------------------------------------------------------------------------------------


def test_writer_protects_formulas_and_round_trips() -> None:
    rows = [
        {"email": "a@exemple.fr", "name": "=HYPERLINK(\"http://x\")", "organisation": "+33",
         "themes": ("open_data", "ia")},
        {"email": "b@exemple.fr", "name": "-Bruno", "organisation": "@Mairie, Brest",
         "themes": None},
        {"email": "c@exemple.fr", "name": "Claire", "themes": ()},
    ]  # fmt: skip
    out = io.StringIO(newline="")
    columns = ["email", "name", "organisation", "themes"]
    assert write_members_csv(rows, out, columns) == 3
    text = out.getvalue()
    assert text.splitlines() == [
        "email,name,organisation,themes",
        'a@exemple.fr,"\'=HYPERLINK(""http://x"")",\'+33,open_data|ia',
        "b@exemple.fr,'-Bruno,\"'@Mairie, Brest\",",
        "c@exemple.fr,Claire,,",
    ]
    assert read(text.encode("utf-8")) == [
        MemberLine(2, "a@exemple.fr", '=HYPERLINK("http://x")', "+33", ("open_data", "ia")),
        MemberLine(3, "b@exemple.fr", "-Bruno", "@Mairie, Brest", None),
        MemberLine(4, "c@exemple.fr", "Claire", "", None),
    ]


def test_writer_plain_values() -> None:
    from datetime import UTC, datetime

    out = io.StringIO()
    n = write_members_csv(
        [{"n": -3, "ok": True, "at": datetime(2026, 1, 2, 9, 30, tzinfo=UTC)}],
        out,
        ["n", "ok", "at", "absent"],
    )
    assert n == 1
    assert out.getvalue().splitlines()[1] == "-3,oui,2026-01-02T09:30:00+00:00,"
