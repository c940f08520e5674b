import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID: 48 bits of epoch milliseconds and 80 random bits in Crockford base32, 26 characters.
 * Ids made later sort after ids made earlier, so a table sorted by id lists newest first when read
 * backwards, with no second index.
 */
export function timeOrderedId(now: number, random: Uint8Array = randomBytes(10)): string {
  let time = '';
  // ULIDs hold 48 bits of milliseconds (until the year 10889); later times clamp rather than wrap.
  let t = Math.min(2 ** 48 - 1, Math.max(0, Math.floor(now)));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let bits = 0;
  let value = 0;
  let tail = '';
  for (const byte of random.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      tail += CROCKFORD[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return time + tail;
}

/** Whether a text is shaped like {@link timeOrderedId}'s output. */
export function isTimeOrderedId(text: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(text);
}
