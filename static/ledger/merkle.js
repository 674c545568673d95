// RFC 9162 Merkle tree verification in the browser: the twin of kitobxon/ledger/merkle.py.
//
// A leaf hashes as SHA-256(0x00 || entry), an interior node as SHA-256(0x01 || left || right).
// rootFromInclusion follows RFC 9162 §2.1.3.2 and verifyConsistency §2.1.4.2 step by step,
// exactly as merkle.py does; tests/e2e/test_ledger_browser.py runs both on every tree up to 64
// leaves and compares. Tree sizes and indices are JavaScript numbers (exact below 2**53) and
// are shifted with Math.floor(x / 2), never with >>, which would cut them to 32 bits.

import { sha256 } from "../vendor/noble-hashes/sha2.js";

export const HASH_SIZE = 32;

export class ProofError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProofError";
  }
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0), entry));
}

export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a[i] ^ b[i];
  return difference === 0;
}

const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

function isPowerOfTwo(n) {
  let m = n;
  while (m > 1 && !odd(m)) m = half(m);
  return m === 1;
}

function checkSize(value, name) {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProofError(`${name} must be a whole number, not ${value}`);
  }
}

/** The root that `path` proves `leaf` (at `index`) is included under. */
export function rootFromInclusion(index, size, leaf, path) {
  checkSize(index, "index");
  checkSize(size, "size");
  if (!(index < size)) throw new ProofError(`leaf ${index} is not in a tree of ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) throw new ProofError("the inclusion proof is too long");
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError("the inclusion proof is too short");
  return r;
}

export function verifyInclusion(index, size, leaf, path, root) {
  if (!equalBytes(rootFromInclusion(index, size, leaf, path), root)) {
    throw new ProofError("the inclusion proof does not lead to the root");
  }
}

/** Throw ProofError unless `proof` shows tree `second` extends tree `first`. */
export function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  checkSize(first, "first");
  checkSize(second, "second");
  if (!(first <= second)) throw new ProofError(`a tree of ${second} cannot extend one of ${first}`);
  if (first === second) {
    if (proof.length) throw new ProofError("trees of the same size need an empty proof");
    if (!equalBytes(firstRoot, secondRoot)) {
      throw new ProofError("trees of the same size have different roots");
    }
    return;
  }
  if (first === 0) {
    if (proof.length) throw new ProofError("the empty tree needs an empty proof");
    return;
  }
  if (!proof.length) throw new ProofError("the consistency proof is empty");
  const path = [...proof];
  if (isPowerOfTwo(first)) path.unshift(firstRoot);
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError("the consistency proof is too long");
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError("the consistency proof is too short");
  if (!equalBytes(fr, firstRoot)) {
    throw new ProofError("the consistency proof does not lead to the older root");
  }
  if (!equalBytes(sr, secondRoot)) {
    throw new ProofError("the consistency proof does not lead to the newer root");
  }
}

export function fromBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

export function toBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
