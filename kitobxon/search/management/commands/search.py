"""`kitobxon search "QUERY"`: print hits (id, title, score) for scripts and quick checks."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kitobxon.search.documents import PUBLIC, STAFF
from kitobxon.search.searching import ALL_FACETS, SearchRequest, search


class Command(BaseCommand):
    help = "Search the library as a reader would (add --staff to include unpublished records)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query", help='what a reader would type, e.g. "o\'zbek tili"')
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="FACET=VALUE",
            help=f"restrict to a facet value; facets: {', '.join(ALL_FACETS)}",
        )
        parser.add_argument("--sort", default="relevance")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--staff", action="store_true", help="search as a librarian")
        parser.add_argument("--json", action="store_true", help="print hits and facets as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        filters: dict[str, list[str]] = {}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep or name not in ALL_FACETS:
                raise CommandError(f"--filter {item!r}: use FACET=VALUE with one of {ALL_FACETS}")
            filters.setdefault(name, []).append(value)
        principals = frozenset({PUBLIC, STAFF} if options["staff"] else {PUBLIC})
        response = search(
            SearchRequest(
                q=options["query"],
                filters=filters,
                sort=options["sort"],
                size=options["limit"],
                principals=principals,
                count_zero=False,
            )
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "total": response.total,
                        "notice": response.notice,
                        "did_you_mean": response.did_you_mean,
                        "redirect": response.redirect,
                        "hits": [
                            {"id": h["key"], "title": h.get("title", ""), "score": h["score"]}
                            for h in response.hits
                        ],
                        "facets": response.facets,
                    },
                    ensure_ascii=False,
                )
            )
            return
        if response.redirect:
            self.stdout.write(f"→ {response.redirect}")
            return
        if response.notice:
            self.stderr.write(f"note: {response.notice}; searched for the words instead")
        for hit in response.hits:
            self.stdout.write(f"{hit['key']}\t{hit.get('title', '')}\t{hit['score']:.3f}")
        self.stderr.write(f"{response.total} found")
        if response.did_you_mean:
            self.stderr.write(f"did you mean: {response.did_you_mean}")
