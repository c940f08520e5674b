import { describe, expect, it } from 'vitest';
import { isTimeOrderedId, timeOrderedId } from '../../../../functions/shared/domain/alerting/ids';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const T0 = Date.parse('2026-03-01T12:00:00Z');
const zeros = () => new Uint8Array(10);
const ones = () => new Uint8Array(10).fill(255);

describe('timeOrderedId', () => {
  it('is 26 Crockford base32 characters', () => {
    // Act
    const ids = [timeOrderedId(T0), timeOrderedId(0, zeros()), timeOrderedId(2 ** 48 - 1, ones())];

    // Assess
    for (const id of ids) expect(id).toMatch(CROCKFORD);
  });

  it('encodes the time in the first 10 characters and the random bytes in the last 16, as a ULID', () => {
    // Prepare: the ULID specification's example timestamp.
    const time = 1_469_922_850_259;
    const random = new Uint8Array([0b00001000, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

    // Act
    const id = timeOrderedId(time, random);

    // Assess
    expect(id.slice(0, 10)).toBe('01ARZ3NDEK');
    expect(id.slice(10)).toBe(`1${'0'.repeat(15)}`);
    expect(timeOrderedId(0, zeros())).toBe('0'.repeat(26));
    expect(timeOrderedId(1, ones())).toBe(`${'0'.repeat(9)}1${'Z'.repeat(16)}`);
  });

  it('sorts ids made later after ids made earlier, whatever their random parts', () => {
    // Prepare: the earlier id of each pair gets the largest random part, the later the smallest.
    const times = [0, 1, 31, 32, 1_000, T0 - 1, T0, T0 + 1, T0 + 86_400_000, 2 ** 48 - 1];

    // Act
    const ids = times.map((time, n) => timeOrderedId(time, n % 2 === 0 ? ones() : zeros()));

    // Assess
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never wraps around: a time past the 48-bit range sorts no earlier than the largest in range', () => {
    // Prepare: Date.parse accepts times up to 8.64e15 ms (e.g. `since=+040000-01-01T00:00:00Z`).
    const largest = timeOrderedId(2 ** 48 - 1, zeros());

    // Act
    const beyond = timeOrderedId(2 ** 50, zeros());
    const negative = timeOrderedId(-5, zeros());

    // Assess
    expect(beyond >= largest).toBe(true);
    expect(negative).toBe('0'.repeat(26));
  });

  it('makes different ids within one millisecond from fresh randomness', () => {
    // Act
    const ids = Array.from({ length: 50 }, () => timeOrderedId(T0));

    // Assess
    expect(new Set(ids).size).toBe(50);
    expect(new Set(ids.map((id) => id.slice(0, 10))).size).toBe(1);
  });
});

describe('isTimeOrderedId', () => {
  const id = timeOrderedId(T0, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));

  it('accepts what timeOrderedId makes', () => {
    expect(isTimeOrderedId(id)).toBe(true);
    expect(isTimeOrderedId(timeOrderedId(T0))).toBe(true);
  });

  it.each([
    ['lower case', () => `${id.slice(0, 25)}a`],
    ['25 characters', () => id.slice(0, 25)],
    ['27 characters', () => `${id}0`],
    ['empty', () => ''],
    ['an I', () => `${id.slice(0, 25)}I`],
    ['an L', () => `${id.slice(0, 25)}L`],
    ['an O', () => `${id.slice(0, 25)}O`],
    ['an U', () => `${id.slice(0, 25)}U`],
    ['a dash', () => `${id.slice(0, 25)}-`],
    ['surrounding space', () => ` ${id.slice(0, 25)}`],
  ])('rejects a text with %s', (_, text) => {
    // Act
    const accepted = isTimeOrderedId(text());

    // Assess
    expect(accepted).toBe(false);
  });

  it('rejects the whole id in lower case', () => {
    // Prepare
    const lower = id.toLowerCase();

    // Assess
    expect(lower).not.toBe(id);
    expect(isTimeOrderedId(lower)).toBe(false);
  });
});
