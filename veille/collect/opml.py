"""OPML subscription lists: import from and export to other feed readers.

Readers write OPML loosely (attribute case varies, folders nest, files are sometimes not
quite well-formed), so reading recovers what it can; anything without an <opml> root is
refused with one sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from veille.errors import ParseError


@dataclass(frozen=True)
class OpmlOutline:
    """One subscription; `category` is the folder (innermost) it was filed under."""

    title: str
    xml_url: str | None
    html_url: str | None = None
    category: str | None = None


def parse_opml(content: bytes) -> list[OpmlOutline]:
    """Every outline carrying an `xmlUrl`, in document order; folders become categories."""
    if not content or not content.strip():
        raise ParseError("The OPML file is empty.")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, recover=True
    )
    try:
        root = etree.fromstring(content, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ParseError("The file is not readable XML, so not an OPML document.") from exc
    if root is None or not isinstance(root.tag, str) or etree.QName(root).localname != "opml":
        raise ParseError("The file is not an OPML document (its root element is not <opml>).")
    body = next((c for c in root if isinstance(c.tag, str) and _local(c) == "body"), None)
    out: list[OpmlOutline] = []
    _walk(body if body is not None else root, None, out)
    return out


def _walk(node: etree._Element, folder: str | None, out: list[OpmlOutline]) -> None:
    for child in node:
        if not isinstance(child.tag, str) or _local(child) != "outline":
            continue
        attrs = {k.lower(): v.strip() for k, v in child.attrib.items() if isinstance(k, str)}
        name = attrs.get("title") or attrs.get("text") or ""
        xml_url = attrs.get("xmlurl") or None
        if xml_url:
            category = folder or _category_attribute(attrs.get("category", ""))
            out.append(
                OpmlOutline(
                    title=name or xml_url,
                    xml_url=xml_url,
                    html_url=attrs.get("htmlurl") or None,
                    category=category,
                )
            )
        _walk(child, name or folder, out)


def _category_attribute(value: str) -> str | None:
    """OPML 2.0 `category="/News/Open data,/Tech"`: the first path's last part."""
    first = value.split(",")[0].strip().strip("/")
    return (first.rsplit("/", 1)[-1].strip() or None) if first else None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.lower()


def write_opml(outlines: Iterable[OpmlOutline], title: str) -> bytes:
    """OPML 2.0, one folder per category where it first appears; order otherwise kept."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for outline in outlines:
        parent = body
        if outline.category:
            if outline.category not in folders:
                folders[outline.category] = etree.SubElement(
                    body, "outline", text=outline.category, title=outline.category
                )
            parent = folders[outline.category]
        attrs = {"type": "rss", "text": outline.title, "title": outline.title}
        if outline.xml_url:
            attrs["xmlUrl"] = outline.xml_url
        if outline.html_url:
            attrs["htmlUrl"] = outline.html_url
        etree.SubElement(parent, "outline", attrs)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
