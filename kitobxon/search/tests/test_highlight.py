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


def test_one_marker_gives_every_text_of_a_page_what_the_functions_give() -> None:
    tokens = analyse_query("adabiyot tarixi")
    texts = [
        "O‘zbek adabiyoti tarixi",
        "Adabiyotshunoslik va adabiyot nazariyasi " * 12,
        "Tarix fanlari: " + "adabiyot " * 3 + "va boshqa " * 40,
        "",
    ]
    marker = Marker(tokens)
    for text in texts:
        assert marker.highlight(text) == highlight(text, tokens)
        assert marker.snippet(text) == snippet(text, tokens)
