// The arena's entry check, run in a Web Worker: find a decimal `solution` such that
// sha256(`${nonce}:${solution}`) starts with `bits` zero bits (webapp/arena/services/proof_of_work.py
// checks it with one hash). A compact SHA-256 for one 64-byte block: the message is always
// shorter than 56 bytes, so each try is one compression.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const W = new Uint32Array(64);
const BLOCK = new Uint8Array(64);

// SHA-256 of BLOCK (one padded block); returns the number of leading zero bits of the digest.
// The first `fixedWords` message words are the same for every try, so the state after that
// many rounds (`mid`) is computed once.
function roundsFrom(state, from) {
  let a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
  for (let i = from; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
      ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
      ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  return [a, b];
}

function fillSchedule(fromWord) {
  for (let i = fromWord; i < 16; i++) {
    W[i] = (BLOCK[4 * i] << 24) | (BLOCK[4 * i + 1] << 16) | (BLOCK[4 * i + 2] << 8) | BLOCK[4 * i + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15], y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
}

function midstate(rounds) {
  let a = H0[0], b = H0[1], c = H0[2], d = H0[3], e = H0[4], f = H0[5], g = H0[6], h = H0[7];
  for (let i = 0; i < rounds; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
      ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
      ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  return [a, b, c, d, e, f, g, h];
}

export function solve(nonce, bits) {
  const prefix = new TextEncoder().encode(`${nonce}:`);
  if (prefix.length + 20 > 55) throw new Error("nonce too long for one SHA-256 block");
  BLOCK.fill(0);
  BLOCK.set(prefix);
  const fixedWords = prefix.length >> 2; // words made of prefix bytes only
  fillSchedule(0);
  const mid = midstate(fixedWords);
  for (let n = 0; ; n++) {
    const digits = String(n);
    let length = prefix.length;
    for (let i = 0; i < digits.length; i++) BLOCK[length++] = digits.charCodeAt(i);
    BLOCK.fill(0, length, 62);
    BLOCK[length] = 0x80;
    const bitLength = length * 8;
    BLOCK[62] = bitLength >>> 8;
    BLOCK[63] = bitLength & 0xff;
    fillSchedule(fixedWords);
    const [a, b] = roundsFrom(mid, fixedWords);
    const w0 = (H0[0] + a) >>> 0, w1 = (H0[1] + b) >>> 0;
    if ((w0 === 0 ? 32 + Math.clz32(w1) : Math.clz32(w0)) >= bits) return digits;
  }
}

// As a worker: receive {nonce, bits}, answer {solution}.
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  self.onmessage = (event) => {
    const { nonce, bits } = event.data;
    self.postMessage({ solution: solve(nonce, bits) });
  };
}
