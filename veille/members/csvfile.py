"""Members' CSV files: the streaming reader behind `veille members import`, the export writer.

Import files come from whatever spreadsheet a member's secretariat uses, so the reader is
lenient about the container and strict about the content: `;`, `,` or tab separators, UTF-8
with or without BOM, UTF-16 with BOM (Excel's « Texte Unicode »), Windows-1252 / Latin-1,
CRLF, LF or CR line ends, French or English column names. Every bad line becomes a
`LineError` naming its physical line and the reason in French; only a file that cannot be
read at all (empty, no e-mail column) raises `ImportFileError`.

Encoding is decided per physical line: each line is decoded as UTF-8 and, when that fails,
as Windows-1252 (Latin-1 for the five bytes cp1252 leaves undefined). Newline bytes are the
same in all three encodings, so lines can be cut before decoding. This keeps memory constant
and never needs a second pass or a restart (the input may be a pipe), and it also reads the
files people build by pasting a Latin-1 export under a UTF-8 one. The price is theoretical:
a Windows-1252 line whose accented letters happen to form valid UTF-8 (« Ã© ») would be read
as UTF-8; French text does not produce such pairs.

Memory is constant apart from one dict of the e-mail keys already read (duplicate detection
names the first line), about 100 bytes per member.
"""

from __future__ import annotations

import codecs
import csv
import functools
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import BinaryIO, TextIO

from email_validator import EmailNotValidError, validate_email

from veille.errors import ImportFileError
from veille.sources import THEME_IDS
from veille.text import csvcells

MAX_FIELD_CHARS = 200
"""Longest name or organisation accepted (longer is a pasted paragraph, not a name)."""

MAX_RECORD_LINES = 20
"""A record spanning more physical lines almost surely opens a quote it never closes."""

_CHUNK = 1 << 16
_MAX_LINE_BYTES = 1 << 20  # a longer "line" is cut, so a file with no newline stays bounded
_DELIMITERS = (";", ",", "\t")  # preference order on ties: French spreadsheets first
_QUOTED = re.compile(r'"[^"]*"')

_ALIASES = {
    "email": {
        "email", "e mail", "mail", "courriel", "adresse email", "adresse e mail",
        "adresse mail", "adresse courriel", "adresse electronique", "email address",
    },
    "name": {
        "name", "nom", "prenom nom", "nom prenom", "nom complet", "nom et prenom",
        "prenom et nom", "full name",
    },
    "first_name": {"prenom", "first name", "firstname"},
    "organisation": {
        "organisation", "organization", "structure", "collectivite", "organisme",
        "etablissement",
    },
    "themes": {"themes", "theme", "thematiques", "thematique"},
}  # fmt: skip
_COLUMN_OF_ALIAS = {alias: column for column, aliases in _ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class MemberLine:
    """One valid member line; `themes` None means « all themes »."""

    line: int
    email: str
    name: str
    organisation: str
    themes: tuple[str, ...] | None

    @property
    def key(self) -> str:
        """The identity of a member: two addresses differing only in case are one person."""
        return self.email.lower()


@dataclass(frozen=True)
class LineError:
    """A line that was not imported: its first physical line and why, in French."""

    line: int
    reason: str


def read_members_csv(
    source: Path | BinaryIO, *, themes: Iterable[str] = THEME_IDS
) -> Iterator[MemberLine | LineError]:
    """Read the header now (so a hopeless file fails before any database work), the lines lazily.

    Raises `ImportFileError` for an empty file or one without an e-mail column; every other
    problem is a `LineError` in the stream. A `Path` is opened and closed here; a stream is
    read from its current position and left open.
    """
    lookup = {_theme_key(t): t for t in themes}
    owned = isinstance(source, str | os.PathLike)
    stream = open(source, "rb") if isinstance(source, str | os.PathLike) else source  # noqa: SIM115
    try:
        reader, offset, layout = _open_reader(_physical_lines(stream))
    except BaseException:
        if owned:
            stream.close()
        raise
    return _records(reader, offset, layout, lookup, stream if owned else None)


def write_members_csv(
    rows: Iterable[Mapping[str, object]], out: TextIO, columns: Sequence[str]
) -> int:
    """Write a header and one row per mapping; returns the number of rows (header excluded).

    `out` should be opened with `encoding="utf-8", newline=""` (add `-sig` for Excel).
    Text cells that a spreadsheet would run as a formula get a leading apostrophe (CSV
    injection); the reader removes it again, so an export re-imports unchanged. Sequences
    (themes) are joined with `|`, which never needs quoting.
    """
    writer = csv.writer(out)
    writer.writerow([_protect(c) for c in columns])
    written = 0
    for row in rows:
        writer.writerow([_export_cell(row.get(c)) for c in columns])
        written += 1
    return written


# --- reading: bytes → physical lines ------------------------------------------------------


def _physical_lines(stream: BinaryIO) -> Iterator[str]:
    """Physical lines without their terminator, decoded one by one (see module docstring)."""
    first = stream.read(_CHUNK)
    chunks: Iterable[bytes] = _chunks(stream, first)
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if first.startswith(bom):
            chunks = _transcode(_chunks(stream, first[len(bom) :]), encoding)
            break
    lines = _split_lines(chunks)
    for raw in lines:
        text = _decode(raw)
        yield text[1:] if text.startswith("\ufeff") else text  # UTF-8 BOM
        break
    yield from map(_decode, lines)


def _chunks(stream: BinaryIO, first: bytes) -> Iterator[bytes]:
    if first:
        yield first
    while chunk := stream.read(_CHUNK):
        yield chunk


def _transcode(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """UTF-16 → UTF-8 bytes, so line cutting and decoding have a single path."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text.encode("utf-8")
    if tail := decoder.decode(b"", final=True):
        yield tail.encode("utf-8")


def _split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Cut on CRLF, LF or CR (old Mac exports); a CR ending a chunk waits for a possible LF."""
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).splitlines(keepends=True)
        rest = b"" if lines[-1].endswith(b"\n") else lines.pop()
        for line in lines:
            yield line.rstrip(b"\r\n")
        if len(rest) > _MAX_LINE_BYTES:
            yield rest
            rest = b""
    if rest:
        yield rest.rstrip(b"\r\n")


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


# --- reading: header ----------------------------------------------------------------------


def _is_blank(line: str) -> bool:
    return not line.strip().strip(";,\t\"'").strip()


@dataclass(frozen=True)
class _Layout:
    columns: dict[str, int]  # our column name → index in a row
    width: int  # cells in the header
    delimiter: str


def _open_reader(lines: Iterator[str]) -> tuple[_ReaderWithLines, int, _Layout]:
    """Skip leading blank lines, sniff the separator, map the header's columns.

    Returns the csv reader positioned after the header, the number of physical lines read
    before the reader started (to turn its `line_num` into file line numbers), the column
    layout.
    """
    offset = 0
    for header_line in lines:
        if not _is_blank(header_line):
            break
        offset += 1
    else:
        raise ImportFileError("Le fichier est vide : aucune ligne d'en-tête (email;nom;…).")
    ahead: list[str] = []
    delimiter = _sniff(header_line)
    if delimiter is None:  # a one-column header: let the first data line decide
        for line in lines:
            ahead.append(line)
            if not _is_blank(line):
                break
        delimiter = _sniff(ahead[-1]) if ahead else None
    delimiter = delimiter or ","
    text = (line + "\n" for line in chain([header_line], ahead, lines))
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader)
    columns = _map_columns(header)
    if "email" not in columns:
        found = ", ".join(cell.strip() for cell in header if cell.strip()) or "aucune"
        raise ImportFileError(
            f"Ligne {offset + 1} : l'en-tête n'a pas de colonne d'adresse e-mail "
            f"(attendu : email, e-mail, courriel ou mail ; colonnes trouvées : {found})."
        )
    return _ReaderWithLines(reader), offset, _Layout(columns, len(header), delimiter)


class _ReaderWithLines:
    """csv.reader plus its `line_num`, typed (mypy does not know `_csv.reader.line_num`)."""

    def __init__(self, reader: Iterator[list[str]]) -> None:
        self.reader = reader

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        return next(self.reader)

    @property
    def line_num(self) -> int:
        return int(self.reader.line_num)  # type: ignore[attr-defined]


def _sniff(line: str) -> str | None:
    outside_quotes = _QUOTED.sub("", line)
    counts = {d: outside_quotes.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])  # max keeps the first on ties
    return best if counts[best] else None


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: « Prénom-Nom » → « prenom nom »."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def _map_columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = _COLUMN_OF_ALIAS.get(_fold(cell))
        if column and column not in columns:  # a repeated column: the first one wins
            columns[column] = index
    return columns


# --- reading: records ---------------------------------------------------------------------


def _records(
    reader: _ReaderWithLines,
    offset: int,
    layout: _Layout,
    lookup: dict[str, str],
    owned: BinaryIO | None,
) -> Iterator[MemberLine | LineError]:
    seen: dict[str, int] = {}
    theme_split = re.compile(r"[|,]" if layout.delimiter == ";" else r"[|,;]")
    expected = ", ".join(dict.fromkeys(lookup.values()))
    previous = reader.line_num
    try:
        while True:
            start = offset + previous + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                previous = reader.line_num
                yield LineError(start, f"ligne illisible ({exc}) : un guillemet n'est pas fermé ?")
                continue
            end = offset + reader.line_num
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            result = _check_row(row, start, end, layout, theme_split, lookup, expected, seen)
            if isinstance(result, MemberLine):
                seen[result.key] = start
            yield result
    finally:
        if owned is not None:
            owned.close()


def _check_row(
    row: list[str],
    start: int,
    end: int,
    layout: _Layout,
    theme_split: re.Pattern[str],
    lookup: dict[str, str],
    expected: str,
    seen: dict[str, int],
) -> MemberLine | LineError:
    """All of a line's problems at once, so the user fixes the file in one pass."""
    if end - start + 1 > MAX_RECORD_LINES:
        return LineError(
            start,
            f"enregistrement de {end - start + 1} lignes (lignes {start} à {end}) : "
            "un guillemet n'est sans doute pas fermé",
        )

    def cell(column: str) -> str:
        index = layout.columns.get(column)
        if index is None or index >= len(row):
            return ""
        return _unprotect(row[index].strip())

    reasons: list[str] = []
    email = cell("email")
    if not email:
        reasons.append("adresse e-mail manquante")
    else:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            reasons.append(f"adresse e-mail invalide : {_shown(email)}{_email_hint(email)}")
        else:
            first = seen.get(email.lower())
            if first is not None:
                reasons.append(f"adresse en double : {email} (déjà ligne {first})")

    name = " ".join(f"{cell('first_name')} {cell('name')}".split())
    organisation = " ".join(cell("organisation").split())
    if len(name) > MAX_FIELD_CHARS:
        reasons.append(f"nom trop long : {len(name)} caractères ({MAX_FIELD_CHARS} au plus)")
    if len(organisation) > MAX_FIELD_CHARS:
        reasons.append(
            f"organisation trop longue : {len(organisation)} caractères ({MAX_FIELD_CHARS} au plus)"
        )

    themes: tuple[str, ...] | None = None
    wanted = [part.strip() for part in theme_split.split(cell("themes")) if part.strip()]
    if wanted and layout.columns["themes"] == layout.width - 1:
        # `a@b.fr,Nom,Org,open_data,ia` unquoted in a `,` file: the extra cells are themes
        extra = [c.strip() for c in row[layout.width :] if c.strip()]
        if extra and all(_theme_key(c) in lookup for c in extra):
            wanted += extra
    if wanted:
        chosen = {lookup.get(_theme_key(w)) for w in wanted}
        if None in chosen:
            unknown = dict.fromkeys(w for w in wanted if _theme_key(w) not in lookup)
            label = "thème inconnu" if len(unknown) == 1 else "thèmes inconnus"
            shown = ", ".join(_shown(u) for u in unknown)
            reasons.append(f"{label} : {shown} (attendus : {expected})")
        else:
            themes = tuple(t for t in dict.fromkeys(lookup.values()) if t in chosen)

    if reasons:
        return LineError(start, " ; ".join(reasons))
    return MemberLine(start, email, name, organisation, themes)


@functools.lru_cache(maxsize=1024)  # a file repeats the same few theme spellings
def _theme_key(text: str) -> str:
    """« Open-Data », « OPEN_DATA » and « open data » are all `open_data`."""
    return _fold(text).replace(" ", "_")


def _email_hint(email: str) -> str:
    if "@" not in email:
        return " (il manque le @)"
    if email.count("@") > 1:
        return " (plusieurs @)"
    if any(c.isspace() for c in email):
        return " (contient une espace)"
    local, domain = email.split("@")
    if not local:
        return " (rien avant le @)"
    if not domain:
        return " (rien après le @)"
    if "." not in domain:
        return " (domaine sans point)"
    return ""


def _shown(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- formula injection: one rule for every CSV of the project (veille.text.csvcells) ---------

_protect = csvcells.neutralise_text
_unprotect = csvcells.restore


def _export_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)  # a negative number is not a formula
    if isinstance(value, str):
        return _protect(value)
    if isinstance(value, Iterable):
        return _protect("|".join(str(item) for item in value))
    return _protect(str(value))
