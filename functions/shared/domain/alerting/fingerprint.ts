/**
 * Alert fingerprints, computed exactly as Prometheus's `model.LabelSet.Fingerprint()` (which
 * Alertmanager uses to identify alerts): FNV-1a 64-bit over the label names in sorted order, each
 * name and value followed by the separator byte 0xff, rendered as 16 lowercase hex digits. The empty
 * label set hashes to the FNV-64 offset basis, `cbf29ce484222325`.
 */

const OFFSET_64 = 0xcbf29ce484222325n;
const PRIME_64 = 0x100000001b3n;
const SEPARATOR_BYTE = 0xff;
const MASK_64 = 0xffffffffffffffffn;

const encoder = new TextEncoder();

/** The Alertmanager-compatible fingerprint of a label set: 16 lowercase hex digits. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  // Go sorts label names by their bytes; comparing UTF-8 encodings matches it for any name.
  const names = Object.keys(labels)
    .map((name) => ({ name, bytes: encoder.encode(name) }))
    .sort((a, b) => compareBytes(a.bytes, b.bytes));
  let hash = OFFSET_64;
  for (const { name, bytes } of names) {
    hash = addBytes(hash, bytes);
    hash = addByte(hash, SEPARATOR_BYTE);
    hash = addBytes(hash, encoder.encode(labels[name] ?? ''));
    hash = addByte(hash, SEPARATOR_BYTE);
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * FNV-1a 64-bit of a string's UTF-8 bytes, as 16 hex digits: a stable, cheap digest (not a
 * security hash) used to notice that a rule's condition changed.
 */
export function fnv1a64(text: string): string {
  return addBytes(OFFSET_64, encoder.encode(text)).toString(16).padStart(16, '0');
}

function addBytes(hash: bigint, bytes: Uint8Array): bigint {
  let h = hash;
  for (const byte of bytes) h = addByte(h, byte);
  return h;
}

function addByte(hash: bigint, byte: number): bigint {
  return ((hash ^ BigInt(byte)) * PRIME_64) & MASK_64;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}
