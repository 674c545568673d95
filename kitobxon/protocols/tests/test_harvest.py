"""The OAI-PMH harvester against local HTTP servers: the Sickle sample responses (six
schema-invalid, one not well-formed), a repository that answers 503 once, and OAI errors."""

from __future__ import annotations

import io
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kitobxon.catalogue.models import Record, RecordStatus, Tombstone
from kitobxon.protocols.harvest import services
from kitobxon.protocols.harvest.fetching import Fetcher, FetchError, retry_after
from kitobxon.protocols.harvest.harvesting import fit, harvest, repository_name
from kitobxon.protocols.models import HarvestRun, HarvestSource, RunStatus

SAMPLES = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "oai-pmh-sample-responses"
)

DC_PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>{date}</responseDate><request verb="ListRecords">http://x/oai</request>
<ListRecords>{records}</ListRecords></OAI-PMH>"""
DC_RECORD = """<record><header{status}><identifier>{identifier}</identifier>
<datestamp>2024-01-01</datestamp></header>{metadata}</record>"""
DC_METADATA = """<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>
<dc:creator>Qodiriy, Abdulla</dc:creator><dc:date>1926</dc:date></oai_dc:dc></metadata>"""


def dc_page(records: list[tuple[str, str | None]], date: str = "2024-05-01T10:00:00Z") -> bytes:
    """A ListRecords page; a record with title None is a deleted header."""
    parts = []
    for identifier, title in records:
        metadata = DC_METADATA.format(title=title) if title is not None else ""
        status = ' status="deleted"' if title is None else ""
        parts.append(DC_RECORD.format(identifier=identifier, status=status, metadata=metadata))
    return DC_PAGE.format(date=date, records="".join(parts)).encode()


class Repository:
    """A local HTTP server: ``answer(params) -> (status, headers, body)``; requests are kept."""

    def __init__(
        self,
        answer: Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]],
        host: str = "127.0.0.1",
    ):
        self.answer = answer
        self.host = host
        self.requests: list[dict[str, str]] = []
        repository = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(url.query))
                params["_path"] = url.path
                repository.requests.append(params)
                status, headers, body = repository.answer(params)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/oai") -> str:
        return f"http://{self.host}:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def repository() -> Iterator[Callable[..., Repository]]:
    started: list[Repository] = []

    def start(
        answer: Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]],
        host: str = "127.0.0.1",
    ) -> Repository:
        started.append(Repository(answer, host))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def samples(repository: Callable[..., Repository]) -> Repository:
    """The Sickle samples: /<first file>/oai answers with that file, a token names the next."""
    if not SAMPLES.is_dir():
        pytest.skip(f"the shared OAI-PMH sample responses are absent ({SAMPLES} not found)")

    def answer(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if params.get("verb") == "Identify":
            return 200, {}, (SAMPLES / "Identify.xml").read_bytes()
        name = params.get("resumptionToken") or params["_path"].split("/")[1]
        return 200, {}, (SAMPLES / Path(name).name).read_bytes()

    return repository(answer)


def fast() -> Fetcher:
    return Fetcher(timeout=5, attempts=3, backoff=0.01)


# --- The sample responses -------------------------------------------------------------------


def test_sample_list_records_are_imported_once_and_the_bad_header_reported(
    db: None, samples: Repository
) -> None:
    url = samples.url("/ListRecords.xml/oai")
    report = harvest(url, fetcher=fast())

    assert report.completed and report.errors == []
    assert report.pages == 4  # ListRecords → 2 → 3 → 4, each schema-invalid
    assert [r["resumptionToken"] for r in samples.requests[1:]] == [
        "ListRecords2.xml",
        "ListRecords3.xml",
        "ListRecords4.xml",
    ]
    records = Record.objects.filter(control_number_source=repository_name(url))
    assert [(r.control_number, r.title, r.year) for r in records] == [
        ("oai:test.example.com:1585322", "Sample Title", 2010)
    ]
    assert (report.harvested, report.unchanged, report.deleted) == (1, 3, 3)
    assert report.rejected == 1
    assert report.rejects[0].identifier == ""
    assert "header without an identifier" in report.rejects[0].reason
    assert report.complete_list_size == 8


def test_a_large_harvest_lets_the_query_planner_see_the_grown_tables(
    db: None, samples: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kitobxon.catalogue.services import records

    monkeypatch.setattr(records, "REFRESH_STATISTICS_FROM", 1)  # the sample holds one record
    with CaptureQueriesContext(connection) as captured:
        report = harvest(samples.url("/ListRecords.xml/oai"), fetcher=fast())
    assert report.harvested == 1
    analysed = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("ANALYZE")]
    assert any("catalogue_record" in sql for sql in analysed), analysed


def test_a_page_that_is_not_well_formed_is_reported_and_the_harvest_not_completed(
    db: None, samples: Repository
) -> None:
    report = harvest(samples.url("/ListRecordsBroken.xml/oai"), fetcher=fast())

    assert not report.completed
    assert len(report.errors) == 1 and "not well-formed" in report.errors[0]
    assert Record.objects.count() == 0


def test_no_records_match_is_an_empty_harvest_not_a_failure(db: None, samples: Repository) -> None:
    report = harvest(samples.url("/noRecordsMatch.xml/oai"), fetcher=fast())

    assert report.completed and report.errors == [] and report.records == 0


@pytest.mark.parametrize("sample", ["badArgument.xml", "undefinedError.xml"])
def test_other_oai_errors_fail_the_harvest_with_their_code(
    db: None, samples: Repository, sample: str
) -> None:
    report = harvest(samples.url(f"/{sample}/oai"), fetcher=fast())

    assert not report.completed
    assert report.errors == [f"page 1: the repository answered {sample.removesuffix('.xml')}"]


def test_the_get_record_sample_in_utf8_is_read_with_its_characters(
    db: None, samples: Repository
) -> None:
    report = harvest(samples.url("/GetRecord_utf8test.xml/oai"), fetcher=fast())

    assert report.harvested == 1
    record = Record.objects.get()
    assert (record.control_number, record.title) == ("oai:test.example.com:1996652", "Sample Title")
    assert [c.agent.name for c in record.contributions.select_related("agent")] == ["某人"]


def test_the_get_record_sample_is_imported(db: None, samples: Repository) -> None:
    report = harvest(samples.url("/GetRecord.xml/oai"), fetcher=fast())

    assert report.completed and report.errors == [] and report.harvested == 1
    record = Record.objects.get()
    assert (record.control_number, record.title) == ("oai:test.example.com:1996652", "Sample Title")


@pytest.mark.parametrize(
    "sample", ["cannotDisseminateFormat", "noSetHierarchy", "idDoesNotExist", "badResumptionToken"]
)
def test_the_sample_errors_fail_the_harvest_and_say_which(
    db: None, samples: Repository, sample: str
) -> None:
    report = harvest(samples.url(f"/{sample}.xml/oai"), fetcher=fast())

    assert not report.completed and report.records == 0
    (error,) = report.errors
    assert error.startswith(f"page 1: the repository answered {sample}")
    assert Record.objects.count() == 0


def test_a_bad_resumption_token_midway_keeps_the_first_page_and_the_run_is_partial(
    db: None, samples: Repository, repository: Callable[..., Repository]
) -> None:
    first = dc_page([("oai:x:1", "Boburnoma")]).replace(
        b"</ListRecords>", b"<resumptionToken>gone</resumptionToken></ListRecords>"
    )
    bad = (SAMPLES / "badResumptionToken.xml").read_bytes()
    server = repository(lambda params: (200, {}, bad if "resumptionToken" in params else first))
    source = services.source_for(server.url(), "oai_dc", "", by=None)

    run, report = services.run_source(source, by=None, fetcher=fast())

    assert run.status == RunStatus.PARTIAL and "badResumptionToken" in run.errors
    assert report.harvested == 1 and Record.objects.get().title == "Boburnoma"
    assert server.requests[1]["resumptionToken"] == "gone"


MARC_PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-05-01T10:00:00Z</responseDate><request verb="ListRecords">http://x/oai</request>
<ListRecords><record><header><identifier>oai:x:record:7</identifier>
<datestamp>2024-04-01T00:00:00Z</datestamp><setSpec>collection:mumtoz</setSpec></header>
<metadata><record xmlns="http://www.loc.gov/MARC21/slim">
<leader>00000nam a2200000 i 4500</leader>
<controlfield tag="008">240401s1483    uz            000 0 uzb d</controlfield>
<datafield tag="100" ind1="1" ind2=" "><subfield code="a">Navoiy, Alisher</subfield></datafield>
<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Xamsa</subfield></datafield>
<datafield tag="264" ind1=" " ind2="1"><subfield code="c">1483</subfield></datafield>
</record></metadata></record></ListRecords></OAI-PMH>"""


def test_a_marc21_harvest_of_one_set_from_the_command(
    db: None, repository: Callable[..., Repository]
) -> None:
    server = repository(lambda params: (200, {}, MARC_PAGE))
    out = io.StringIO()

    call_command(
        "harvest", server.url(), "--prefix", "marc21", "--set", "collection:mumtoz", stdout=out
    )

    (asked,) = [r for r in server.requests if r["verb"] == "ListRecords"]
    assert (asked["metadataPrefix"], asked["set"]) == ("marc21", "collection:mumtoz")
    record = Record.objects.get()
    assert (record.control_number, record.title, record.year) == ("oai:x:record:7", "Xamsa", 1483)
    assert [c.agent.name for c in record.contributions.select_related("agent")] == [
        "Navoiy, Alisher"
    ]
    source = HarvestSource.objects.get()
    assert (source.metadata_prefix, source.set_spec) == ("marc21", "collection:mumtoz")
    assert "1 harvested" in out.getvalue()


# --- De-duplication, deletions, incremental harvests ----------------------------------------


def test_reharvest_updates_never_duplicates_and_deleted_headers_withdraw(
    db: None, repository: Callable[..., Repository]
) -> None:
    pages = [
        dc_page([("oai:x:1", "O'tkan kunlar"), ("oai:x:2", "Mehrobdan chayon")]),
        dc_page([("oai:x:1", "O'tkan kunlar (2-nashr)"), ("oai:x:2", None)]),
    ]
    server = repository(lambda params: (200, {}, pages.pop(0)))
    source = services.source_for(server.url(), "oai_dc", "", by=None)

    first_run, first = services.run_source(source, by=None, fetcher=fast())
    second_run, second = services.run_source(source, by=None, fetcher=fast())

    assert (first.harvested, first.updated) == (2, 0)
    assert (second.harvested, second.updated, second.deleted) == (0, 1, 1)
    assert Record.objects.count() == 2
    one = Record.objects.get(control_number="oai:x:1")
    two = Record.objects.get(control_number="oai:x:2")
    assert one.title == "O'tkan kunlar (2-nashr)" and one.status == RecordStatus.PUBLISHED
    assert one.control_number_source == repository_name(server.url())
    assert two.status == RecordStatus.WITHDRAWN
    assert Tombstone.objects.filter(record_id=two.pk).exists()
    assert first_run.status == second_run.status == RunStatus.DONE


def test_the_next_harvest_starts_from_the_last_successful_response_date(
    db: None, repository: Callable[..., Repository]
) -> None:
    identify = b"""<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>
    2024-05-01T10:00:00Z</responseDate><Identify><granularity>YYYY-MM-DDThh:mm:ssZ</granularity>
    </Identify></OAI-PMH>"""
    server = repository(
        lambda params: (
            (200, {}, identify)
            if params["verb"] == "Identify"
            else (200, {}, dc_page([("oai:x:1", "Kecha va kunduz")], date="2024-05-01T10:00:00Z"))
        )
    )
    source = services.source_for(server.url(), "oai_dc", "", by=None)

    services.run_source(source, by=None, fetcher=fast())
    source.refresh_from_db()
    services.run_source(source, by=None, fetcher=fast())

    listing = [r for r in server.requests if r["verb"] == "ListRecords"]
    assert "from" not in listing[0]
    assert listing[1]["from"] == "2024-05-01T10:00:00Z"
    assert HarvestRun.objects.filter(source=source).count() == 2


def test_a_failed_harvest_does_not_move_the_starting_point(
    db: None, repository: Callable[..., Repository]
) -> None:
    server = repository(lambda params: (200, {}, b"<not-closed>"))
    source = services.source_for(server.url(), "oai_dc", "", by=None)
    HarvestSource.objects.filter(pk=source.pk).update(last_response_date="2020-01-01")
    source.refresh_from_db()

    run, _report = services.run_source(source, by=None, fetcher=fast())

    source.refresh_from_db()
    assert run.status == RunStatus.FAILED and "not well-formed" in run.errors
    assert source.last_response_date == "2020-01-01" and source.last_status == RunStatus.FAILED
    assert server.requests[0]["from"] == "2020-01-01"


def test_long_identifiers_are_fitted_stably_into_the_control_number() -> None:
    long = "oai:repository.example.org:" + "x" * 100
    assert len(fit(long)) == 64 and fit(long) == fit(long) and fit(long) != fit(long + "y")
    assert fit("oai:short:1") == "oai:short:1"


# --- HTTP: retries, backoff, Retry-After ----------------------------------------------------


def test_a_503_with_retry_after_is_waited_for_then_the_harvest_goes_on(
    db: None, repository: Callable[..., Repository]
) -> None:
    answers = [(503, {"Retry-After": "1"}, b"busy")]

    def answer(params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return answers.pop(0) if answers else (200, {}, dc_page([("oai:x:9", "Boburnoma")]))

    server = repository(answer)
    started = time.monotonic()
    report = harvest(server.url(), fetcher=Fetcher(timeout=5, attempts=3, backoff=30))

    assert time.monotonic() - started >= 1.0  # waited as asked, not the 30 s backoff
    assert report.completed and report.harvested == 1
    assert (report.requests, report.retries) == (2, 1)


def test_a_429_with_retry_after_is_waited_for_like_a_503(
    repository: Callable[..., Repository],
) -> None:
    answers = [(429, {"Retry-After": "7"}, b"slow down"), (429, {}, b"slow down")]
    server = repository(
        lambda params: answers.pop(0) if answers else (200, {}, dc_page([("oai:x:9", "Boburnoma")]))
    )
    waits: list[float] = []
    fetcher = Fetcher(timeout=5, attempts=4, backoff=0.5, sleep=waits.append)

    assert b"Boburnoma" in fetcher.get(server.url(), {"verb": "ListRecords"})
    assert waits == [7.0, 1.0]  # as asked, then the backoff of the second attempt
    assert len(server.requests) == 3


def test_server_errors_are_retried_with_backoff_then_given_up(
    repository: Callable[..., Repository],
) -> None:
    server = repository(lambda params: (500, {}, b"oops"))
    waits: list[float] = []
    fetcher = Fetcher(timeout=5, attempts=4, backoff=0.5, sleep=waits.append)

    with pytest.raises(FetchError, match=r"HTTP 500.*gave up after 4 attempts"):
        fetcher.get(server.url(), {"verb": "ListRecords"})

    assert waits == [0.5, 1.0, 2.0] and len(server.requests) == 4


def test_client_errors_are_not_retried(repository: Callable[..., Repository]) -> None:
    server = repository(lambda params: (404, {}, b"no"))

    with pytest.raises(FetchError, match="HTTP 404"):
        fast().get(server.url(), {"verb": "ListRecords"})

    assert len(server.requests) == 1


def test_a_refused_connection_is_retried() -> None:
    waits: list[float] = []
    fetcher = Fetcher(timeout=1, attempts=2, backoff=0.25, sleep=waits.append)

    with pytest.raises(FetchError, match="connection failed"):
        fetcher.get("http://127.0.0.1:9/oai", {"verb": "Identify"})

    assert waits == [0.25]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Wed, 01 May 2024 10:01:30 GMT", now) == 90.0
    assert retry_after("Wed, 01 May 2024 09:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


# --- The command ----------------------------------------------------------------------------


def test_the_command_prints_a_summary_and_fails_on_a_broken_repository(
    db: None, samples: Repository
) -> None:
    out = io.StringIO()
    call_command("harvest", samples.url("/ListRecords.xml/oai"), stdout=out)
    assert "1 harvested, 0 updated, 3 unchanged, 3 deleted, 1 rejected" in out.getvalue()
    assert "header without an identifier" in out.getvalue()

    with pytest.raises(CommandError, match="not well-formed"):
        call_command("harvest", samples.url("/ListRecordsBroken.xml/oai"), stdout=io.StringIO())
