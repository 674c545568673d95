"""'Is this file authentic?' in a real browser: hashing, the signed checkpoint and the proof.

The page runs against a live server with a real signing key. The reader's file is hashed by
the page itself (set_input_files, as a reader picking a file), and every verdict is the page's
own: the Ed25519 signature, the entry's hash and the RFC 9162 proof are all checked in
Chromium. merkle.js is also compared with merkle.py on every tree of 1 to 64 leaves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kitobxon.ledger import checkpoints, merkle, services, subjects
from kitobxon.ledger.models import Checkpoint, Entry, Node

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
TITLE = "Oʻzbek adabiyoti tarixi: dissertatsiya"
VERDICT = "#authentic-result:not([aria-busy])[data-state]:not([data-state=working])"


@pytest.fixture
def books() -> Iterator[dict[str, subjects.Described]]:
    known: dict[str, subjects.Described] = {}
    subjects.register("book", known.get)
    yield known
    subjects.unregister("book")


@pytest.fixture
def dissertation(tmp_path: Path, books: dict[str, subjects.Described]) -> Path:
    """A 9 MB file registered in the log among other entries, under a signed checkpoint."""
    books["42"] = subjects.Described(TITLE, "/records/42/")
    path = tmp_path / "dissertatsiya.pdf"
    path.write_bytes(random.Random(5).randbytes(9 * 1024 * 1024 + 17))
    for i in range(6):
        services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i)
    services.register_file(
        subject="file:42",
        path="files/dissertatsiya.pdf",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        size=path.stat().st_size,
        belongs_to="book:42",
    )
    for i in range(6, 11):
        services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i)
    services.integrate()
    assert checkpoints.make_checkpoint(force=True) is not None
    return path


def _phone(browser: Any, live_server: Any, path: str = "/ledger/authentic/") -> Any:
    page = browser.new_context(viewport=PHONE, locale="en-US").new_page()
    page.context.add_cookies([{"name": "kitobxon_language", "value": "en", "url": live_server.url}])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # uncaught in our modules
    page.errors = errors
    page.goto(live_server.url + path)
    page.wait_for_selector("#authentic.js-ready")
    return page


def _verdict(page: Any) -> str:
    page.wait_for_selector(VERDICT, timeout=30_000)
    return str(page.locator("#authentic-result").get_attribute("data-state"))


def test_a_registered_file_is_proven_authentic_in_the_browser(
    browser: Any, live_server: Any, dissertation: Path
) -> None:
    page = _phone(browser, live_server)
    page.locator("#authentic-file").set_input_files(str(dissertation))
    assert _verdict(page) == "authentic"
    result = page.locator("#authentic-result")
    assert result.get_attribute("aria-live") == "polite"
    assert result.locator("h2").inner_text() == "Authentic"
    link = result.locator("a.authentic-record")
    assert link.inner_text() == TITLE
    assert link.get_attribute("href") == "/records/42/"
    assert "No. 6" in result.inner_text()  # the sixth loan came before it
    assert "checkpoint of kitobxon.localhost/ledger, 12 entries" in result.inner_text()
    sha = hashlib.sha256(dissertation.read_bytes()).hexdigest()
    assert page.input_value("#authentic-sha256") == sha
    assert page.url.endswith(f"/ledger/authentic/?sha256={sha}")  # a link to share
    assert page.locator("#authentic-progress .progress-text").inner_text() == "100% hashed"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == []
    page.context.close()


def test_a_file_with_one_byte_changed_is_not_registered(
    browser: Any, live_server: Any, dissertation: Path, tmp_path: Path
) -> None:
    changed = bytearray(dissertation.read_bytes())
    changed[4_500_000] ^= 0x01
    copy = tmp_path / "nusxa.pdf"
    copy.write_bytes(bytes(changed))
    page = _phone(browser, live_server)
    page.locator("#authentic-file").set_input_files(str(copy))
    assert _verdict(page) == "absent"
    assert page.locator("#authentic-result h2").inner_text() == "Not registered in the ledger"
    assert page.errors == []
    page.context.close()


def test_a_shared_link_with_the_hash_is_proven_on_arrival(
    browser: Any, live_server: Any, dissertation: Path
) -> None:
    sha = hashlib.sha256(dissertation.read_bytes()).hexdigest()
    page = _phone(browser, live_server, f"/ledger/authentic/?sha256={sha}")
    assert _verdict(page) == "authentic"
    page.context.close()


def test_a_pasted_hash_is_checked_from_the_keyboard(
    browser: Any, live_server: Any, dissertation: Path
) -> None:
    sha = hashlib.sha256(dissertation.read_bytes()).hexdigest()
    page = _phone(browser, live_server)
    page.locator("#authentic-sha256").focus()
    page.keyboard.type(f"{sha.upper()}  dissertatsiya.pdf")
    page.keyboard.press("Enter")
    assert _verdict(page) == "authentic"
    assert page.input_value("#authentic-sha256") == sha
    page.keyboard.press("Control+a")
    page.keyboard.type("not a hash")
    page.keyboard.press("Enter")
    assert _verdict(page) == "invalid"
    page.context.close()


def test_a_tampered_checkpoint_fails_the_signature_check(
    browser: Any, live_server: Any, dissertation: Path
) -> None:
    checkpoint = Checkpoint.objects.get()
    body, signatures = checkpoint.note.split("\n\n", 1)
    origin, size, _root = body.split("\n")
    forged_root = base64.b64encode(hashlib.sha256(b"another tree").digest()).decode()
    Checkpoint.objects.filter(pk=checkpoint.pk).update(
        note=f"{origin}\n{size}\n{forged_root}\n\n{signatures}"
    )
    page = _phone(browser, live_server)
    page.locator("#authentic-file").set_input_files(str(dissertation))
    assert _verdict(page) == "failed"
    result = page.locator("#authentic-result")
    assert result.get_attribute("data-check") == "signature"
    assert result.locator("h2").inner_text() == "Verification failed"
    assert "signature does not verify" in result.inner_text()
    page.context.close()


def _rewrite_entry(sha: str) -> None:
    """Edit the entry's stored text, as an administrator rewriting history would."""
    entry = Entry.objects.get(sha256=sha)
    Entry.objects.filter(pk=entry.pk).update(body=entry.body.replace("files/", "fayllar/"))


def _rewrite_node(sha: str) -> None:
    """Replace a stored tree node that the entry's inclusion proof passes through."""
    Node.objects.filter(key=services.node_key(1, 2)).update(hash=hashlib.sha256(b"x").digest())


@pytest.mark.parametrize(
    ("rewrite", "check", "words"),
    [
        (_rewrite_entry, "hash", "does not hash to its leaf"),
        (_rewrite_node, "proof", "does not lead to the root"),
    ],
    ids=["entry", "node"],
)
def test_a_rewritten_log_fails_the_check_that_catches_it(
    browser: Any,
    live_server: Any,
    dissertation: Path,
    rewrite: Callable[[str], None],
    check: str,
    words: str,
) -> None:
    rewrite(hashlib.sha256(dissertation.read_bytes()).hexdigest())
    page = _phone(browser, live_server)
    page.locator("#authentic-file").set_input_files(str(dissertation))
    assert _verdict(page) == "failed"
    result = page.locator("#authentic-result")
    assert result.get_attribute("data-check") == check
    assert words in result.inner_text()
    page.context.close()


def test_a_file_registered_after_the_checkpoint_is_waiting_for_one(
    browser: Any, live_server: Any, dissertation: Path
) -> None:
    services.register_file(subject="file:43", path="x", sha256="ab" * 32, size=1)
    services.integrate()
    page = _phone(browser, live_server, f"/ledger/authentic/?sha256={'ab' * 32}")
    assert _verdict(page) == "pending"
    assert page.locator("#authentic-result h2").inner_text() == (
        "Registered, but not yet in a signed checkpoint"
    )
    page.context.close()


# --- merkle.js is merkle.py -------------------------------------------------------------------

MERKLE_JS = """async (input) => {
  const [table, cases] = JSON.parse(input);
  const m = await import("/static/ledger/merkle.js");
  const hashes = table.map((text) => m.fromBase64(text));
  const bytes = (i) => hashes[i];
  const run = (f) => {
    try {
      const value = f();
      return value === undefined ? ["ok"] : ["root", m.toBase64(value)];
    } catch (error) {
      return [error instanceof m.ProofError ? "error" : "crash", error.message];
    }
  };
  const results = cases.map(([kind, a, b, x, y, proof]) =>
    kind === "inclusion"
      ? run(() => m.rootFromInclusion(a, b, bytes(x), proof.map(bytes)))
      : run(() => m.verifyConsistency(a, b, bytes(x), bytes(y), proof.map(bytes))),
  );
  return JSON.stringify(results);
}"""


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _python(kind: str, a: int, b: int, x: str, y: str, proof: list[str]) -> list[str]:
    path = [base64.b64decode(p) for p in proof]
    try:
        if kind == "inclusion":
            return ["root", _b64(merkle.root_from_inclusion(a, b, base64.b64decode(x), path))]
        merkle.verify_consistency(a, b, base64.b64decode(x), base64.b64decode(y), path)
    except merkle.ProofError as error:
        return ["error", str(error)]
    return ["ok"]


def _cases(largest: int) -> list[list[Any]]:
    """Every inclusion and consistency proof up to ``largest`` leaves, and broken variants."""
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(largest)]
    nodes: dict[merkle.NodeKey, bytes] = {(0, i): leaf for i, leaf in enumerate(leaves)}
    tree = merkle.CompactRange()
    for leaf in leaves:
        tree.append(leaf, lambda level, index, value: nodes.__setitem__((level, index), value))
    roots = [merkle.EMPTY_ROOT] + [merkle.root_of(leaves[:n]) for n in range(1, largest + 1)]
    junk = _b64(hashlib.sha256(b"junk").digest())
    cases: list[list[Any]] = []
    for size in range(1, largest + 1):
        for index in range(size):
            proof = [_b64(p) for p in merkle.inclusion_proof(index, size, nodes)]
            mine = _b64(leaves[index])
            cases.append(["inclusion", index, size, mine, "", proof])
            cases.append(["inclusion", index, size, mine, "", [*proof, junk]])
            if proof:
                cases.append(["inclusion", index, size, mine, "", proof[:-1]])
                cases.append(["inclusion", index, size, mine, "", [junk, *proof[1:]]])
        cases.append(["inclusion", size, size, junk, "", []])
        for first in range(0, size + 1):
            proof = (
                [_b64(p) for p in merkle.consistency_proof(first, size, nodes)]
                if 0 < first < size
                else []
            )
            old, new = _b64(roots[first]), _b64(roots[size])
            cases.append(["consistency", first, size, old, new, proof])
            cases.append(["consistency", first, size, junk, new, proof])
            cases.append(["consistency", first, size, old, junk, proof])
            if proof:
                cases.append(["consistency", first, size, old, new, proof[:-1]])
                cases.append(["consistency", first, size, old, new, [*proof, junk]])
        cases.append(["consistency", size, size - 1, junk, junk, []])
    return cases


def test_merkle_js_agrees_with_merkle_py_on_every_tree_up_to_64_leaves(
    browser: Any, live_server: Any
) -> None:
    cases = _cases(64)
    page = browser.new_context().new_page()
    page.goto(live_server.url + "/ledger/authentic/")
    table: dict[str, int] = {}

    def number(text: str) -> int:
        return table.setdefault(text, len(table))

    numbered = [
        [kind, a, b, number(x), number(y), [number(p) for p in proof]]
        for kind, a, b, x, y, proof in cases
    ]
    # One JSON string each way: Playwright is slow at carrying thousands of small arrays.
    in_browser = json.loads(page.evaluate(MERKLE_JS, json.dumps([list(table), numbered])))
    expected = [_python(*case) for case in cases]
    assert len(in_browser) == len(expected) > 10_000
    assert {tuple(result[:1]) for result in expected} == {("root",), ("error",), ("ok",)}
    for case, got, want in zip(cases, in_browser, expected, strict=True):
        assert got == want, case
    page.context.close()
