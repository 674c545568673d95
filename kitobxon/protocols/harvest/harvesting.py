"""One harvest: ask a repository for its records page by page and bring them into the catalogue.

Provenance and de-duplication: every harvested record carries the OAI identifier as its
control number (MARC 001) and the repository as its control number source (003), so the
catalogue's own matching (``save_records`` matches 001+003 first) updates a record harvested
before instead of adding it again. The repository is named by its base URL without the scheme
(``library.example.org/oai``). Both fields hold 64 characters; a longer value keeps its start and
ends with a digest of the whole, which stays stable from one harvest to the next.

A deleted header withdraws the record (``set_status``, which leaves a tombstone); a record that
comes back later is published again by ``save_records``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kitobxon.accounts.models import User
from kitobxon.catalogue import services as catalogue
from kitobxon.catalogue.data import RecordData
from kitobxon.catalogue.errors import InvalidRecord
from kitobxon.catalogue.models import Record, RecordStatus
from kitobxon.protocols.harvest import responses
from kitobxon.protocols.harvest.fetching import Fetcher, FetchError

FIELD_LENGTH = 64
NOT_FAILURES = {"noRecordsMatch"}  # an empty answer, not a broken harvest


def fit(value: str) -> str:
    """``value`` in 64 characters; a longer one is cut and ends with a digest of the whole."""
    if len(value) <= FIELD_LENGTH:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return f"{value[: FIELD_LENGTH - 17]}~{digest}"


def repository_name(base_url: str) -> str:
    """What 003 holds for records from ``base_url``: the URL without its scheme."""
    return fit(base_url.split("://", 1)[-1].rstrip("/"))


@dataclass
class Reject:
    identifier: str
    reason: str


@dataclass
class HarvestReport:
    base_url: str
    metadata_prefix: str
    set_spec: str = ""
    from_date: str = ""
    response_date: str = ""  # of the first page: the next incremental harvest starts here
    harvested: int = 0  # new records
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    complete_list_size: int | None = None
    rejects: list[Reject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # pages or requests that failed
    seconds: float = 0.0
    completed: bool = False  # every page was read to the end of the list

    @property
    def records(self) -> int:
        return self.harvested + self.updated + self.unchanged + self.deleted + self.rejected

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "metadata_prefix": self.metadata_prefix,
            "set": self.set_spec,
            "from": self.from_date,
            "response_date": self.response_date,
            "completed": self.completed,
            "harvested": self.harvested,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "rejected": self.rejected,
            "pages": self.pages,
            "requests": self.requests,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second, 1),
            "rejects": [{"identifier": r.identifier, "reason": r.reason} for r in self.rejects],
            "errors": self.errors,
        }


Progress = Callable[[HarvestReport], None]


def _granularity(fetcher: Fetcher, base_url: str) -> str:
    try:
        return responses.parse(fetcher.get(base_url, {"verb": "Identify"})).granularity
    except (FetchError, responses.PageError):
        return ""


def _from_argument(fetcher: Fetcher, base_url: str, from_date: str) -> str:
    """``from_date`` at the repository's granularity (day-only repositories refuse seconds)."""
    if "T" not in from_date:
        return from_date
    if _granularity(fetcher, base_url) == "YYYY-MM-DDThh:mm:ssZ":
        return from_date
    return from_date.split("T", 1)[0]


def harvest(
    base_url: str,
    *,
    metadata_prefix: str = "oai_dc",
    set_spec: str = "",
    from_date: str = "",
    by: User | None = None,
    fetcher: Fetcher | None = None,
    progress: Progress | None = None,
) -> HarvestReport:
    """Harvest every record ``base_url`` lists, following resumption tokens to the end.

    Stops at the first page that cannot be fetched or read (records of earlier pages stay
    imported) and says so in ``errors``; ``completed`` is true only when the list was read to
    its end, and only then should the next harvest start from ``response_date``.
    """
    fetcher = fetcher or Fetcher()
    report = HarvestReport(base_url, metadata_prefix, set_spec, from_date)
    started = time.monotonic()
    repository = repository_name(base_url)
    params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
    if set_spec:
        params["set"] = set_spec
    if from_date:
        params["from"] = _from_argument(fetcher, base_url, from_date)
    try:
        while True:
            try:
                page = responses.parse(fetcher.get(base_url, params))
            except (FetchError, responses.PageError) as error:
                report.errors.append(f"page {report.pages + 1}: {error}")
                break
            report.pages += 1
            if not report.response_date:
                report.response_date = page.response_date
            if page.error_code:
                if page.error_code in NOT_FAILURES:
                    report.completed = True
                else:
                    message = f": {page.error_message}" if page.error_message else ""
                    report.errors.append(
                        f"page {report.pages}: the repository answered {page.error_code}{message}"
                    )
                break
            if page.complete_list_size is not None:
                report.complete_list_size = page.complete_list_size
            _import_page(page, metadata_prefix, repository, by, report)
            if progress is not None:
                report.seconds = time.monotonic() - started
                progress(report)
            if not page.resumption_token:
                report.completed = True
                break
            params = {"verb": "ListRecords", "resumptionToken": page.resumption_token}
    finally:
        report.requests = fetcher.requests
        report.retries = fetcher.retries
        report.seconds = time.monotonic() - started
    catalogue.refresh_statistics(written=report.harvested + report.updated)
    return report


def _import_page(
    page: responses.Page,
    metadata_prefix: str,
    repository: str,
    by: User | None,
    report: HarvestReport,
) -> None:
    batch: list[RecordData] = []
    deleted: list[str] = []
    for record in page.records:
        if record.problem:
            report.rejected += 1
            report.rejects.append(Reject(record.identifier, record.problem))
            continue
        if record.deleted:
            deleted.append(fit(record.identifier))
            continue
        parsed = responses.crosswalk(record, metadata_prefix)
        if parsed.data is None or parsed.error:
            report.rejected += 1
            report.rejects.append(Reject(record.identifier, parsed.error or "unreadable"))
            continue
        data = parsed.data
        data.control_number = fit(record.identifier)
        data.control_number_source = repository
        try:
            catalogue.validate(data)
        except InvalidRecord as error:
            report.rejected += 1
            report.rejects.append(Reject(record.identifier, str(error)))
            continue
        batch.append(data)
    if batch:
        for saved in catalogue.save_records(batch, by=by, validated=True):
            if saved.created:
                report.harvested += 1
            elif saved.changed:
                report.updated += 1
            else:
                report.unchanged += 1
    if deleted:
        _withdraw(deleted, repository, by, report)


def _withdraw(
    identifiers: list[str], repository: str, by: User | None, report: HarvestReport
) -> None:
    """Withdraw the records the repository has deleted (a tombstone keeps the date)."""
    records = Record.objects.filter(
        control_number__in=identifiers, control_number_source=repository
    ).exclude(status=RecordStatus.WITHDRAWN)
    for record in records:
        catalogue.set_status(
            record, RecordStatus.WITHDRAWN, by=by, reason="deleted at the source repository"
        )
    report.deleted += len(identifiers)
