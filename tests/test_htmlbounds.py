"""bound_html: unchanged markup within the limits, flattened text beyond, linear cost."""

from __future__ import annotations

import random
import time

from veille.collect.clean import html_to_text
from veille.collect.htmlbounds import _drop_deeper, _within, bound_html
from veille.collect.images import is_tiny, is_tracker


def nested(depth: int, tag: str = "div") -> str:
    return f"<{tag}>" * depth + "fond" + f"</{tag}>" * depth


def test_markup_within_the_limits_is_returned_unchanged() -> None:
    page = "<p>un</p>" * 500 + nested(90) + "<script>if (a<b) {'<div>'}</script>"
    assert bound_html(page) is page


def test_deeper_tags_are_dropped_and_their_text_kept() -> None:
    out = bound_html("<p>avant</p>" + nested(5000) + "<p>après</p>", max_depth=50)
    assert out.count("<div>") == 50 and out.count("</div>") == 50
    assert "fond" in html_to_text(out) and "après" in html_to_text(out)
    # what libxml2 used to drop past ~255 levels is read now
    assert "fond" in html_to_text(nested(1000))


def test_raw_text_comments_and_foreign_self_closing_are_not_counted() -> None:
    page = "<svg>" + "<path/>" * 300 + "</svg>" + "<!--<div>-->" * 300 + "<p>texte</p>"
    assert bound_html(page, max_depth=10) is page


def test_cost_is_linear_in_the_depth() -> None:
    def cpu(depth: int) -> float:
        html = nested(depth)
        started = time.process_time()
        bound_html.__wrapped__(html)  # bypass the cache
        return time.process_time() - started

    small, large = cpu(10_000), cpu(100_000)
    assert large < 2.0
    assert large < 40 * max(small, 0.002), (small, large)  # quadratic would be ~100x


def test_a_lone_less_than_costs_what_it_spans() -> None:
    """« i<n » in an inline script or « a<b » in text opens no tag: it must fail at the next
    `<` or `>`, not try every split of a long name and the text after it (quadratic: the
    benchmark's pages, whose scripts loop with « i<x.length », took ~200 ms each)."""
    script = "<script>" + f"for(i=0;i<{'x' * 1000} {'y' * 20_000};i++){{}}" * 20 + "</script>"
    page = "<html><body>" + "<div>" * 150 + script + "<p>texte</p>" + "</div>" * 150
    started = time.process_time()
    out = bound_html.__wrapped__(page)  # bypass the cache
    assert time.process_time() - started < 2.0  # ~10 ms; the backtracking took ~50 s
    assert "texte" in out and out.count("<div>") == 98  # html, body and 98 divs


# Pieces that exercise what the counting treats apart: raw-text elements in any case (and
# the look-alikes `str.lower` or IGNORECASE treat differently: « ſ », dotted « İ »),
# comments that start inside a script and end past it, foreign self-closing tags, end tags
# far from their match, elements whose end tag is optional, lone `<`.
_PIECES = (
    *("<", ">", "/", "</", "<!--", "-->", "<!", "<?", " ", "\n", "\t", "a", "=", "'", '"'),
    *("div", "DIV", "p", "li", "td", "tr", "svg", "math", "br", "img", "b", "é", "\u0130"),
    *("script", "SCRIPT", "Script", "scri\u0307pt", "\u017fcript", "style", "textarea"),
    *("title", "xmp", "iframe", "noscript", "plaintext", "/>", "<div>", "</div>", "<p>"),
    *("<script>", "</script>", "</script ", "<style>", "</style>", "<!-- ", " -->", "<li>"),
    *("<svg>", "<path/>", "</svg>", "</scriptx>", "<scriptx>", "</\u017fcript>", "\u212a"),
)


def test_the_cheap_count_agrees_with_the_loop_on_random_markup() -> None:
    """`_within` (tags counted from one `findall`) must say « nothing to drop » exactly
    when the loop drops nothing: the loop, with a limit one below and at the depth it
    reaches, is the reference."""
    rng = random.Random(15)
    dropped = 0
    for _ in range(2000):
        html = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 80)))
        for limit in range(4):
            kept = _drop_deeper(html, limit) is html
            assert _within(html, limit) is kept, (html, limit)
            dropped += not kept
    assert 1000 < dropped < 7000  # both answers were tested


def test_tracker_rules() -> None:
    assert is_tracker("http://feeds.feedburner.com/~r/site/~4/abc")
    assert is_tracker("https://stats.wordpress.com/b.gif?host=x")
    assert is_tracker("https://ad.doubleclick.net/x.png")
    assert is_tracker("https://news.example.org/__utm.gif?x=1")
    assert not is_tracker("https://photos.example.org/open/mairie.jpg")
    assert is_tiny({"width": "1", "height": "1"}) and is_tiny({"style": "width: 2px"})
    assert not is_tiny({"width": "640", "style": "max-width:100%"})
