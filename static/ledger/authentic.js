// "Is this file authentic?": hash a file in the browser, then prove it against the signed log.
//
// The file never leaves the reader's computer: it is read in slices and fed to an incremental
// SHA-256, so a 1 GB file needs a few megabytes of memory. Then everything the server says is
// checked here: the checkpoint's Ed25519 signature against the library's key, the entry's
// leaf hash, that the entry names these bytes, and the RFC 9162 inclusion proof up to the
// signed root. Every string shown comes from the page (translated on the server); every value
// from the server is written with textContent, never as HTML.

import { sha256 } from "../vendor/noble-hashes/sha2.js";
import { ProofError, equalBytes, fromBase64, leafHash, rootFromInclusion, toBase64, toHex } from "./merkle.js";
import { NoteError, openCheckpoint, parseVerifierKey } from "./note.js";

const CHUNK = 4 * 1024 * 1024;
const FILE_KINDS = ["file.registered", "file.replaced"];
const SHA256_HEX = /^[0-9a-f]{64}$/;

const page = document.getElementById("authentic");
const strings = JSON.parse(document.getElementById("authentic-strings").textContent);
const { api, keyUrl, checkpointUrl } = page.dataset;
const result = document.getElementById("authentic-result");
const form = document.getElementById("authentic-form");
const hashInput = document.getElementById("authentic-sha256");
const fileInput = document.getElementById("authentic-file");
const dropZone = document.getElementById("authentic-drop");
const progress = document.getElementById("authentic-progress");
const progressBar = progress.querySelector("progress");
const progressText = progress.querySelector(".progress-text");
const language = document.documentElement.lang;

let generation = 0; // a newer file or hash makes older work stop quietly

class CheckFailure extends Error {
  constructor(check, message) {
    super(message);
    this.check = check; // signature, proof, hash, key or network
  }
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function when(time) {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return time;
  try {
    return new Intl.DateTimeFormat(language, { dateStyle: "long", timeStyle: "short" }).format(date);
  } catch {
    return date.toISOString();
  }
}

function show(state, title, detail, ...more) {
  result.className = `authentic-result result-${state}`;
  result.dataset.state = state;
  result.replaceChildren(element("h2", {}, title), ...(detail ? [element("p", {}, detail)] : []), ...more);
}

function facts(pairs) {
  const list = element("dl", { class: "facts" });
  for (const [term, value] of pairs) list.append(element("dt", {}, term), element("dd", {}, value));
  return list;
}

function recordNode(registration) {
  if (!registration.record_title) return strings.unknownRecord;
  if (!registration.record_url) return registration.record_title;
  return element("a", { href: registration.record_url, class: "authentic-record" }, registration.record_title);
}

function registrationList(items, withEntry) {
  const list = element("ul", { class: "authentic-registrations" });
  for (const { registration, time } of items) {
    const pairs = [
      [strings.belongsTo, recordNode(registration)],
      [strings.registered, when(time)],
    ];
    if (withEntry) pairs.push([strings.entry, format(strings.entryNumber, { index: registration.index })]);
    list.append(element("li", {}, facts(pairs)));
  }
  return list;
}

async function fetchOk(url, allowMissing = false) {
  let response;
  try {
    // "no-cache" revalidates: a checkpoint cached a minute ago may not cover a new entry.
    response = await fetch(url, { cache: "no-cache", headers: { Accept: "application/json, text/plain" } });
  } catch {
    throw new CheckFailure("network", strings.failNetwork);
  }
  if (allowMissing && response.status === 404) return null;
  if (!response.ok) throw new CheckFailure("network", strings.failNetwork);
  return response;
}

async function getJSON(url) {
  return (await fetchOk(url)).json();
}

async function signedCheckpoint() {
  const [keyResponse, noteResponse] = await Promise.all([fetchOk(keyUrl), fetchOk(checkpointUrl, true)]);
  if (noteResponse === null) return null; // nothing signed yet
  const [keyText, noteText] = await Promise.all([keyResponse.text(), noteResponse.text()]);
  try {
    return openCheckpoint(noteText, parseVerifierKey(keyText));
  } catch (error) {
    if (error instanceof NoteError) {
      throw new CheckFailure(error.check, error.check === "key" ? strings.failKey : strings.failSignature);
    }
    throw error;
  }
}

/** Prove one registration: its entry hashes to the leaf, names the file, and is under the root. */
async function prove(registration, sha, checkpoint) {
  const { index } = registration;
  const [entry, inclusion] = await Promise.all([
    getJSON(`${api}entries/${index}`),
    getJSON(`${api}proof/inclusion?index=${index}&size=${checkpoint.size}`),
  ]);
  const leaf = leafHash(new TextEncoder().encode(entry.body));
  let body;
  try {
    body = JSON.parse(entry.body);
  } catch {
    throw new CheckFailure("hash", strings.failHash);
  }
  const data = body && typeof body.data === "object" && body.data ? body.data : {};
  if (
    body.sha256 !== sha ||
    !FILE_KINDS.includes(body.kind) ||
    entry.index !== index ||
    !equalBytes(leaf, fromBase64(entry.leaf_hash)) ||
    !equalBytes(leaf, fromBase64(inclusion.leaf_hash))
  ) {
    throw new CheckFailure("hash", strings.failHash);
  }
  try {
    if (inclusion.index !== index || inclusion.size !== checkpoint.size) throw new ProofError("wrong tree");
    const root = rootFromInclusion(index, checkpoint.size, leaf, inclusion.proof.map(fromBase64));
    if (!equalBytes(root, checkpoint.root)) throw new ProofError("wrong root");
  } catch (error) {
    if (error instanceof ProofError || error instanceof DOMException) {
      throw new CheckFailure("proof", strings.failProof);
    }
    throw error;
  }
  // The record named is the one in the signed entry; the title is the server's name for it.
  const named = data.record === registration.record ? registration : { record: data.record };
  return { registration: { ...named, index }, time: body.time };
}

async function verify(sha) {
  const mine = ++generation;
  const current = () => mine === generation;
  show("working", strings.checking, "");
  result.setAttribute("aria-busy", "true");
  try {
    const registrations = await getJSON(`${api}files/${sha}`);
    if (!current()) return;
    if (!registrations.length) {
      show("absent", strings.absentTitle, strings.absentDetail, shaLine(sha));
      return;
    }
    const integrated = registrations.some((r) => r.index !== null);
    const checkpoint = integrated ? await signedCheckpoint() : null;
    const proven = [];
    const waiting = [];
    for (const registration of registrations) {
      if (registration.index === null || !checkpoint || registration.index >= checkpoint.size) {
        waiting.push({ registration, time: registration.time });
      } else {
        proven.push(await prove(registration, sha, checkpoint));
      }
    }
    if (!current()) return;
    if (!proven.length) {
      show("pending", strings.pendingTitle, strings.pendingDetail, registrationList(waiting, false), shaLine(sha));
      return;
    }
    const more = [registrationList(proven, true), checkpointFacts(checkpoint), shaLine(sha)];
    if (waiting.length) more.push(element("p", { class: "muted" }, strings.alsoPending));
    show("authentic", strings.authenticTitle, strings.authenticDetail, ...more);
  } catch (error) {
    if (!current()) return;
    const failure = error instanceof CheckFailure ? error : new CheckFailure("network", strings.failNetwork);
    const check = strings.checks[failure.check] || failure.check;
    show("failed", strings.failedTitle, failure.message, facts([[strings.failedCheck, check]]), shaLine(sha));
    result.dataset.check = failure.check;
  } finally {
    if (current()) result.removeAttribute("aria-busy");
  }
}

function checkpointFacts(checkpoint) {
  const link = element("a", { href: checkpointUrl }, format(strings.checkpointName, checkpoint));
  return facts([
    [strings.provenAgainst, link],
    [strings.rootHash, element("code", {}, toBase64(checkpoint.root))],
  ]);
}

function shaLine(sha) {
  return facts([[strings.fileHash, element("code", { class: "authentic-sha" }, sha)]]);
}

function normalise(text) {
  return (text.trim().split(/\s+/)[0] || "").toLowerCase();
}

function check(sha) {
  progress.hidden = true;
  if (!SHA256_HEX.test(sha)) {
    generation += 1;
    result.removeAttribute("aria-busy");
    show("invalid", strings.invalidTitle, strings.invalidDetail);
    return;
  }
  hashInput.value = sha;
  const url = new URL(window.location.href);
  url.searchParams.set("sha256", sha);
  window.history.replaceState(null, "", url);
  verify(sha);
}

async function hashFile(file) {
  const mine = ++generation;
  const hasher = sha256.create();
  progress.hidden = false;
  progressBar.value = 0;
  progressText.textContent = format(strings.progress, { percent: 0 });
  show("working", format(strings.hashing, { name: file.name }), strings.hashingDetail);
  result.setAttribute("aria-busy", "true");
  try {
    for (let offset = 0; offset < file.size; offset += CHUNK) {
      const slice = new Uint8Array(await file.slice(offset, offset + CHUNK).arrayBuffer());
      if (mine !== generation) return;
      hasher.update(slice);
      const percent = Math.floor((100 * Math.min(offset + CHUNK, file.size)) / file.size);
      progressBar.value = percent;
      progressText.textContent = format(strings.progress, { percent });
    }
  } catch {
    if (mine === generation) show("failed", strings.failedTitle, strings.failRead);
    result.removeAttribute("aria-busy");
    return;
  }
  if (mine !== generation) return;
  progressBar.value = 100;
  progressText.textContent = format(strings.progress, { percent: 100 });
  check(toHex(hasher.digest()));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  check(normalise(hashInput.value));
});

fileInput.addEventListener("change", () => {
  if (fileInput.files.length) hashFile(fileInput.files[0]);
});

// A file dropped anywhere on the page is hashed, never opened or uploaded.
document.addEventListener("dragover", (event) => {
  if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
  dropZone.classList.add("is-dragging");
});
document.addEventListener("dragleave", (event) => {
  if (event.relatedTarget === null) dropZone.classList.remove("is-dragging");
});
document.addEventListener("drop", (event) => {
  if (!event.dataTransfer || !event.dataTransfer.files.length) return;
  event.preventDefault();
  dropZone.classList.remove("is-dragging");
  hashFile(event.dataTransfer.files[0]);
});

page.classList.add("js-ready");
dropZone.hidden = false;
const shared = new URL(window.location.href).searchParams.get("sha256");
if (shared) check(normalise(shared));
