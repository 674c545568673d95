"""Tables of the PostgreSQL search backend (kitobxon/search/backends/postgres/).

Created on PostgreSQL only; on SQLite the index is tantivy's and this migration does nothing.
The backend writes tsvector and tsquery literals built from analysis.py's terms, so no text is
ever parsed by PostgreSQL; the `kitobxon` text search configuration (a copy of `simple`: no
stemming, no stop words) is what any server-side parsing of catalogue text must use instead of a
language configuration that would stem Uzbek as English.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'kitobxon') THEN
        CREATE TEXT SEARCH CONFIGURATION kitobxon (COPY = simple);
    END IF;
END
$$;

CREATE TABLE search_document (
    key text NOT NULL,
    kind text NOT NULL,
    terms tsvector NOT NULL,
    head tsvector NOT NULL,
    facets text[] NOT NULL DEFAULT '{}',
    year integer,
    popularity double precision NOT NULL DEFAULT 0,
    boost real NOT NULL DEFAULT 1,
    title_len smallint NOT NULL DEFAULT 0,
    sort_title text COLLATE "C" NOT NULL DEFAULT '',
    version text NOT NULL
);
-- A search reads head, facets and the sort keys of every match; when a row is too long to
-- stay whole, terms (matched through its GIN index alone) leaves it first.
ALTER TABLE search_document
    ALTER COLUMN head SET STORAGE MAIN,
    ALTER COLUMN facets SET STORAGE MAIN;
CREATE UNIQUE INDEX search_document_key ON search_document (key);
CREATE INDEX search_document_terms ON search_document USING gin (terms);
CREATE INDEX search_document_facets ON search_document USING gin (facets);
CREATE INDEX search_document_year ON search_document (year);
CREATE INDEX search_document_sort_title ON search_document (sort_title);
CREATE INDEX search_document_popularity ON search_document (popularity);

-- What a hit shows, read for one page of hits only: kept out of the rows every search scans.
CREATE TABLE search_display (key text NOT NULL, display jsonb NOT NULL);
CREATE UNIQUE INDEX search_display_key ON search_display (key);

CREATE TABLE search_page (
    key text NOT NULL,
    number integer NOT NULL,
    visible text[] NOT NULL,
    terms tsvector NOT NULL,
    text text NOT NULL
);
CREATE INDEX search_page_key ON search_page (key, number);

CREATE TABLE search_word (word text NOT NULL);
CREATE UNIQUE INDEX search_word_word ON search_word (word);
CREATE INDEX search_word_trigram ON search_word USING gin (word gin_trgm_ops);
"""

DROP = """
DROP TABLE IF EXISTS search_word;
DROP TABLE IF EXISTS search_page;
DROP TABLE IF EXISTS search_display;
DROP TABLE IF EXISTS search_document;
DROP TEXT SEARCH CONFIGURATION IF EXISTS kitobxon;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
