"""Marking the reader's words in titles and snippets: forms, scripts, escaping, the best window."""

from __future__ import annotations

from kitobxon.search.analysis import analyse_query
from kitobxon.search.highlight import Marker, highlight, snippet


def test_a_word_is_marked_in_any_form_and_script_and_the_rest_is_escaped() -> None:
    tokens = analyse_query("kitob ўзбек")
    html = highlight("O‘zbek kitoblari <b>& boshqalar</b>", tokens)
    assert html == ("<mark>O‘zbek</mark> <mark>kitoblari</mark> &lt;b&gt;&amp; boshqalar&lt;/b&gt;")


def test_the_snippet_is_the_window_with_the_most_matches() -> None:
    tokens = analyse_query("navoiy")
    filler = "boshqa so‘zlar bu yerda turadi " * 20
    dense = "Navoiy g‘azallari va Navoiy dostonlari, Navoiyning hayoti"
    text = "Navoiy haqida. " + filler + dense + " " + filler
    result = snippet(text, tokens, width=120)
    assert result.startswith("… ") and result.endswith(" …")
    assert result.count("<mark>") == 3  # the dense passage, not the lone first mention
    assert "g‘azallari" in result


def test_one_marker_marks_every_text_of_a_page_and_counts_the_window_exactly() -> None:
    tokens = analyse_query("adabiyot tarixi")
    marker = Marker(tokens)
    assert marker.highlight("O‘zbek adabiyoti tarixi") == (
        "O‘zbek <mark>adabiyoti</mark> <mark>tarixi</mark>"
    )
    assert marker.highlight("Adabiyot & tarix") == "<mark>Adabiyot</mark> &amp; <mark>tarix</mark>"
    # Two marked words end exactly at the first window's edge (a + width), a third just past
    # it; a later window holds three whole matches and wins.
    text = "tarix " + "xx " * 4 + "adabiyot " + "yy " * 30 + "adabiyot tarix adabiyot " + "zz " * 30
    window = len("tarix " + "xx " * 4 + "adabiyot")
    result = marker.snippet(text, width=window)
    assert result.count("<mark>") == 3
    assert result.startswith("… ") and result.endswith(" …")
    assert "xx" not in result
    # A window exactly as wide as the first two matches counts both (its edge is included), so
    # it ties with a later pair and, coming first, wins.
    opening = "tarix " + "xx " * 4 + "adabiyot"
    pair = "tarix adabiyot"
    text = opening + " " + "ww " * 40 + pair + " " + "ww " * 40
    chosen = marker.snippet(text, width=len(opening))
    assert chosen.startswith("<mark>tarix</mark> xx xx xx xx <mark>adabiyot</mark>"), chosen
