"""The PostgreSQL backend: the index lives in the database, beside the data it describes.

Storage (tables created by migration 0002, owned by the search app):

- ``search_document``: one row per `SearchDocument`. ``terms`` is a tsvector built from the
  analysed terms of analysis.py (PostgreSQL's parser never sees the text, so ʻ and ʼ survive).
  Each lexeme is ``<field><variant>:<term>``, e.g. ``te:oʻzbek`` is an exact title word and
  ``ak:qodiriy`` an author's loose key; keyword values are ``=<field>:<value>`` (``=ids:978…``,
  ``=visible_to:staff``). A whole query tree compiles to one tsquery over ``terms``, answered
  by its GIN index without reading ``terms`` back. ``head`` is the small scoring copy of title,
  author, subject and other: one lexeme per word (``t:oʻzbek``), each form at its own position
  with the weight label of its field and form (title exact A … D), so one ts_rank call scores a
  query the way tantivy's boosts do. ``codes`` is an integer[] of the document's facet values,
  its year range among them (GIN); year, popularity and the sort keys are plain columns.
- ``search_facet_value``: the code of each facet value (``lang``, ``uzb``). Codes are never
  reused or removed, so a rebuild keeps them; a search counts codes in one pass over its matches
  and names only the counted ones.
- ``search_display``: what a hit shows, read for one page of hits only.
- ``search_page``: one row per page of full text, for page hits and snippets.
- ``search_word``: every loose key of titles, authors and subjects, with a trigram index; a typo
  is expanded to the words within its edit distance, which join the query at a low boost.

Writes take a transaction-level advisory lock, so the outbox drain and a rebuild never
interleave; a rebuild fills new tables and swaps them in at commit, so searches see the old
index until then and a crash half-way leaves it untouched.
"""

from kitobxon.search.backends.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]
