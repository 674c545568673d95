// C2SP signed notes and checkpoints, read and verified in the browser.
//
// A verifier key is "<name>+<8 hex digits of key hash>+<base64(0x01 || Ed25519 public key)>";
// the key hash is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key). A note is
// its text (ending in a newline), a blank line, then signature lines "— <name> <base64(key hash
// || signature)>". The log signs the text's bytes exactly; witnesses may add lines of their own,
// which are skipped here. A checkpoint's text is "<origin>\n<size>\n<base64 root>\n".

import * as ed from "../vendor/noble-ed25519/index.js";
import { sha256, sha512 } from "../vendor/noble-hashes/sha2.js";
import { equalBytes, fromBase64 } from "./merkle.js";

ed.hashes.sha512 = sha512;

const ED25519 = 0x01;
const encoder = new TextEncoder();

export class NoteError extends Error {
  constructor(check, message) {
    super(message);
    this.name = "NoteError";
    this.check = check; // "key" or "signature"
  }
}

function keyHash(name, key) {
  const material = new Uint8Array([...encoder.encode(`${name}\n`), ...key]);
  return sha256(material).slice(0, 4);
}

function decode(text, check) {
  try {
    return fromBase64(text);
  } catch {
    throw new NoteError(check, `not base64: ${text}`);
  }
}

/** Parse a verifier key line into {name, hash (4 bytes), publicKey (32 bytes)}. */
export function parseVerifierKey(line) {
  const text = line.trim();
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first <= 0 || second < 0) throw new NoteError("key", "a verifier key has three parts");
  const name = text.slice(0, first);
  const hashHex = text.slice(first + 1, second);
  const key = decode(text.slice(second + 1), "key");
  if (!/^[0-9a-f]{8}$/.test(hashHex) || /\s/.test(name)) {
    throw new NoteError("key", "the verifier key is malformed");
  }
  if (key.length !== 33 || key[0] !== ED25519) {
    throw new NoteError("key", "the verifier key is not an Ed25519 key");
  }
  const hash = keyHash(name, key);
  const expected = Uint8Array.from(hashHex.match(/../g), (pair) => parseInt(pair, 16));
  if (!equalBytes(hash, expected)) {
    throw new NoteError("key", "the verifier key's hash does not match its key");
  }
  return { name, hash, publicKey: key.slice(1) };
}

/** Split a note into its signed text and its signature lines; throws on a malformed note. */
export function splitNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("signature", "the note has no signatures");
  const text = note.slice(0, split + 1);
  const signatures = note.slice(split + 2);
  if (!signatures.endsWith("\n")) {
    throw new NoteError("signature", "the note's signatures must end with a newline");
  }
  return { text, lines: signatures.slice(0, -1).split("\n") };
}

/** Verify a note's text with one key; returns the text, or throws NoteError("signature"). */
export function openNote(note, key) {
  const { text, lines } = splitNote(note);
  const message = encoder.encode(text);
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match || match[1] !== key.name) continue;
    const signature = decode(match[2], "signature");
    if (signature.length !== 4 + 64 || !equalBytes(signature.slice(0, 4), key.hash)) continue;
    let valid = false;
    try {
      valid = ed.verify(signature.slice(4), message, key.publicKey);
    } catch {
      valid = false;
    }
    if (valid) return text;
    throw new NoteError("signature", "the log's signature does not verify");
  }
  throw new NoteError("signature", "the note has no signature by the log's key");
}

/** Verify a checkpoint and read it: {origin, size, root (32 bytes), text}. */
export function openCheckpoint(note, key) {
  const text = openNote(note, key);
  const lines = text.split("\n");
  const [origin, size, root] = lines;
  if (lines.length < 4 || !origin || !/^(0|[1-9][0-9]{0,15})$/.test(size || "")) {
    throw new NoteError("signature", "the signed note is not a checkpoint");
  }
  const rootHash = decode(root, "signature");
  if (rootHash.length !== 32) throw new NoteError("signature", "the checkpoint's root is not 32 bytes");
  return { origin, size: Number(size), root: rootHash, text };
}
