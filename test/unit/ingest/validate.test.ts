import { describe, expect, it } from 'vitest';
import {
  MAX_LABEL_VALUE_BYTES,
  MAX_LABELS,
  MAX_METRIC_NAME_LENGTH,
  MAX_TIMESTAMP_AGE_MS,
  MAX_TIMESTAMP_FUTURE_MS,
} from '../../../functions/shared/domain/ingest/limits';
import {
  type RawDatapoint,
  REJECTION_CODES,
  type RejectionCode,
  validateDatapoints,
} from '../../../functions/shared/domain/ingest/validate';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');

function labelsOf(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`l${i}`, 'v']));
}

/** Validates one item and returns its code, or 'ACCEPTED'. */
function outcomeOf(item: RawDatapoint): RejectionCode | 'ACCEPTED' {
  const { accepted, rejected } = validateDatapoints([item], NOW);
  expect(accepted.length + rejected.length).toBe(1);
  return rejected[0]?.code ?? 'ACCEPTED';
}

describe('validateDatapoints', () => {
  it('accepts a minimal datapoint, stamping it with now and no labels', () => {
    // Prepare
    const items = [{ name: 'cpu_usage', value: 12.5 }];

    // Act
    const outcome = validateDatapoints(items, NOW);

    // Assess
    expect(outcome).toEqual({
      accepted: [{ index: 0, name: 'cpu_usage', value: 12.5, timestamp: NOW, labels: {} }],
      rejected: [],
    });
  });

  it('treats a null timestamp and null labels as absent', () => {
    const { accepted } = validateDatapoints([{ name: 'a', value: 1, timestamp: null, labels: null }], NOW);

    expect(accepted).toEqual([{ index: 0, name: 'a', value: 1, timestamp: NOW, labels: {} }]);
  });

  it('keeps input indexes when valid and invalid items are mixed, giving each item exactly one outcome', () => {
    // Prepare
    const items: RawDatapoint[] = [
      { name: 'ok_a', value: 1 },
      { name: '1bad', value: 1 },
      { name: 'ok_b', value: 2, labels: { host: 'web-1' } },
      { name: 'ok_c', value: '3' },
      { name: 'ok_d', value: 4, timestamp: NOW - 1000 },
      { name: 'ok_e', value: Number.NaN },
    ];

    // Act
    const { accepted, rejected } = validateDatapoints(items, NOW);

    // Assess
    expect(accepted.map((point) => [point.index, point.name])).toEqual([
      [0, 'ok_a'],
      [2, 'ok_b'],
      [4, 'ok_d'],
    ]);
    expect(rejected.map((rejection) => [rejection.index, rejection.code])).toEqual([
      [1, 'INVALID_NAME'],
      [3, 'INVALID_VALUE'],
      [5, 'NON_FINITE_VALUE'],
    ]);
  });

  describe('names', () => {
    it(`accepts a name of exactly ${MAX_METRIC_NAME_LENGTH} characters and rejects ${MAX_METRIC_NAME_LENGTH + 1}`, () => {
      expect(outcomeOf({ name: 'a'.repeat(MAX_METRIC_NAME_LENGTH), value: 1 })).toBe('ACCEPTED');
      expect(outcomeOf({ name: 'a'.repeat(MAX_METRIC_NAME_LENGTH + 1), value: 1 })).toBe('INVALID_NAME');
    });

    it.each([
      ['a colon-namespaced name', 'job:http_requests:rate5m', 'ACCEPTED'],
      ['a leading underscore', '_private', 'ACCEPTED'],
      ['a leading digit', '1cpu', 'INVALID_NAME'],
      ['a dot', 'http.server.duration', 'INVALID_NAME'],
      ['a dash', 'cpu-usage', 'INVALID_NAME'],
      ['an empty name', '', 'INVALID_NAME'],
      ['a non-ASCII letter', 'température', 'INVALID_NAME'],
      ['a number', 42, 'INVALID_NAME'],
      ['a missing name', undefined, 'INVALID_NAME'],
    ])('%s gives %s', (_case, name, expected) => {
      expect(outcomeOf({ name, value: 1 })).toBe(expected);
    });

    it('names the limit and echoes at most ~100 characters of a huge name', () => {
      const { rejected } = validateDatapoints([{ name: 'x'.repeat(1_000_000), value: 1 }], NOW);

      expect(rejected[0]?.message).toContain('1000000 characters; at most 200');
      expect(rejected[0]?.message.length).toBeLessThan(250);
    });
  });

  describe('values', () => {
    it.each([
      ['zero', 0, 'ACCEPTED'],
      ['a negative float', -1.5e-300, 'ACCEPTED'],
      ['the largest double', Number.MAX_VALUE, 'ACCEPTED'],
      ['NaN', Number.NaN, 'NON_FINITE_VALUE'],
      ['+Infinity', Number.POSITIVE_INFINITY, 'NON_FINITE_VALUE'],
      ['-Infinity', Number.NEGATIVE_INFINITY, 'NON_FINITE_VALUE'],
      ['a numeric string', '12', 'INVALID_VALUE'],
      ['null', null, 'INVALID_VALUE'],
      ['a boolean', true, 'INVALID_VALUE'],
      ['a missing value', undefined, 'INVALID_VALUE'],
      ['a bigint', 12n, 'INVALID_VALUE'],
    ])('%s gives %s', (_case, value, expected) => {
      expect(outcomeOf({ name: 'cpu', value })).toBe(expected);
    });
  });

  describe('timestamps', () => {
    it.each([
      ['exactly 7 days old', NOW - MAX_TIMESTAMP_AGE_MS, 'ACCEPTED'],
      ['7 days and 1 ms old', NOW - MAX_TIMESTAMP_AGE_MS - 1, 'TIMESTAMP_OUT_OF_RANGE'],
      ['exactly 10 minutes ahead', NOW + MAX_TIMESTAMP_FUTURE_MS, 'ACCEPTED'],
      ['10 minutes and 1 ms ahead', NOW + MAX_TIMESTAMP_FUTURE_MS + 1, 'TIMESTAMP_OUT_OF_RANGE'],
      ['epoch zero', 0, 'TIMESTAMP_OUT_OF_RANGE'],
      ['a timestamp in seconds by mistake', Math.floor(NOW / 1000), 'TIMESTAMP_OUT_OF_RANGE'],
      ['a far-future number beyond any Date', 1e300, 'TIMESTAMP_OUT_OF_RANGE'],
      ['an ISO string with Z', '2026-11-24T05:59:00Z', 'ACCEPTED'],
      ['an ISO string with an offset and nanoseconds', '2026-11-24T07:59:00.123456789+02:00', 'ACCEPTED'],
      ['an ISO string without seconds', '2026-11-24T05:59Z', 'ACCEPTED'],
      ['an ISO string 7 days and 1 ms old', '2026-11-17T05:59:59.999Z', 'TIMESTAMP_OUT_OF_RANGE'],
      ['an ISO string without an offset', '2026-11-24T05:59:00', 'INVALID_TIMESTAMP'],
      ['a date that does not exist', '2026-02-30T00:00:00Z', 'INVALID_TIMESTAMP'],
      ['hour 24', '2026-11-24T24:00:00Z', 'INVALID_TIMESTAMP'],
      ['a date only', '2026-11-24', 'INVALID_TIMESTAMP'],
      ['free text', 'yesterday', 'INVALID_TIMESTAMP'],
      ['a numeric string', String(NOW), 'INVALID_TIMESTAMP'],
      ['a negative number', -1, 'INVALID_TIMESTAMP'],
      ['a fractional number', NOW + 0.5, 'INVALID_TIMESTAMP'],
      ['NaN', Number.NaN, 'INVALID_TIMESTAMP'],
      ['an object', { ms: NOW }, 'INVALID_TIMESTAMP'],
    ])('%s gives %s', (_case, timestamp, expected) => {
      expect(outcomeOf({ name: 'cpu', value: 1, timestamp })).toBe(expected);
    });

    it('converts an ISO timestamp with an offset to epoch milliseconds', () => {
      const { accepted } = validateDatapoints(
        [{ name: 'a', value: 1, timestamp: '2026-11-24T07:30:00+02:00' }],
        NOW,
      );

      expect(accepted[0]?.timestamp).toBe(Date.parse('2026-11-24T05:30:00Z'));
    });

    it('says which bound an out-of-range timestamp crossed', () => {
      const { rejected } = validateDatapoints(
        [
          { name: 'a', value: 1, timestamp: NOW - MAX_TIMESTAMP_AGE_MS - 1 },
          { name: 'b', value: 1, timestamp: NOW + MAX_TIMESTAMP_FUTURE_MS + 1 },
        ],
        NOW,
      );

      expect(rejected[0]?.message).toContain('more than 7 days old');
      expect(rejected[1]?.message).toContain('more than 10 minutes in the future');
    });
  });

  describe('labels', () => {
    it(`accepts ${MAX_LABELS} labels and rejects ${MAX_LABELS + 1}`, () => {
      expect(outcomeOf({ name: 'cpu', value: 1, labels: labelsOf(MAX_LABELS) })).toBe('ACCEPTED');
      expect(outcomeOf({ name: 'cpu', value: 1, labels: labelsOf(MAX_LABELS + 1) })).toBe('TOO_MANY_LABELS');
    });

    it.each([
      ['a 100-character key', { ['k'.repeat(100)]: 'v' }, 'ACCEPTED'],
      ['a 101-character key', { ['k'.repeat(101)]: 'v' }, 'INVALID_LABEL_KEY'],
      ['a single underscore prefix', { _private: 'v' }, 'ACCEPTED'],
      ['the reserved __ prefix', { __name__: 'v' }, 'INVALID_LABEL_KEY'],
      ['a dotted key', { 'service.name': 'v' }, 'INVALID_LABEL_KEY'],
      ['a leading digit', { '2xx': 'v' }, 'INVALID_LABEL_KEY'],
      ['a colon (allowed in names, not in label keys)', { 'a:b': 'v' }, 'INVALID_LABEL_KEY'],
      ['an empty key', { '': 'v' }, 'INVALID_LABEL_KEY'],
      [
        `a ${MAX_LABEL_VALUE_BYTES}-byte ASCII value`,
        { host: 'a'.repeat(MAX_LABEL_VALUE_BYTES) },
        'ACCEPTED',
      ],
      [
        `a ${MAX_LABEL_VALUE_BYTES + 1}-byte ASCII value`,
        { host: 'a'.repeat(MAX_LABEL_VALUE_BYTES + 1) },
        'INVALID_LABEL_VALUE',
      ],
      ['256 four-byte emoji (1024 bytes)', { host: '😀'.repeat(256) }, 'ACCEPTED'],
      ['257 four-byte emoji (1028 bytes)', { host: '😀'.repeat(257) }, 'INVALID_LABEL_VALUE'],
      [
        '342 three-byte characters (1026 bytes, 342 UTF-16 units)',
        { host: '€'.repeat(342) },
        'INVALID_LABEL_VALUE',
      ],
      ['an empty value', { host: '' }, 'INVALID_LABEL_VALUE'],
      ['a lone surrogate', { host: 'a\ud800b' }, 'INVALID_LABEL_VALUE'],
      ['a number value', { port: 8080 }, 'INVALID_LABEL_VALUE'],
      ['a nested object value', { host: { name: 'web-1' } }, 'INVALID_LABEL_VALUE'],
      ['labels given as an array', [['host', 'web-1']], 'MALFORMED_ITEM'],
      ['labels given as a string', 'host=web-1', 'MALFORMED_ITEM'],
    ])('%s gives %s', (_case, labels, expected) => {
      expect(outcomeOf({ name: 'cpu', value: 1, labels })).toBe(expected);
    });

    it('names the offending label key and the limit', () => {
      const { rejected } = validateDatapoints(
        [{ name: 'cpu', value: 1, labels: { host: 'é'.repeat(600) } }],
        NOW,
      );

      expect(rejected[0]?.message).toBe('label "host" value is 1200 UTF-8 bytes; at most 1024');
    });
  });

  describe('items', () => {
    it.each([
      ['null', null],
      ['a number', 5],
      ['an array', [1, 2]],
      ['a string', 'cpu 1'],
    ])('rejects an item that is %s as MALFORMED_ITEM', (_case, item) => {
      const { rejected } = validateDatapoints([item as unknown as RawDatapoint], NOW);

      expect(rejected).toEqual([{ index: 0, code: 'MALFORMED_ITEM', message: expect.any(String) }]);
    });

    it('reports a problem a parser attached, with its source, and nothing else about the item', () => {
      const item: RawDatapoint = {
        name: undefined,
        value: undefined,
        source: 'line 7',
        problem: { code: 'MALFORMED_ITEM', message: 'unterminated label value' },
      };

      const { rejected } = validateDatapoints([item], NOW);

      expect(rejected).toEqual([
        { index: 0, code: 'MALFORMED_ITEM', message: 'line 7: unterminated label value' },
      ]);
    });

    it('rejects an item whose getters throw instead of throwing itself', () => {
      const item = {
        name: 'cpu',
        get value(): number {
          throw new Error('boom');
        },
      };

      const { rejected } = validateDatapoints([item], NOW);

      expect(rejected).toEqual([{ index: 0, code: 'MALFORMED_ITEM', message: 'item could not be read' }]);
    });

    it('reports the first problem of an item in the order name, value, timestamp, labels', () => {
      const { rejected } = validateDatapoints(
        [
          { name: '1x', value: 'x', timestamp: 'x', labels: { '1': '' } },
          { name: 'x', value: 'x', timestamp: 'x', labels: { '1': '' } },
          { name: 'x', value: 1, timestamp: 'x', labels: { '1': '' } },
          { name: 'x', value: 1, labels: { '1': '' } },
        ],
        NOW,
      );

      expect(rejected.map((rejection) => rejection.code)).toEqual([
        'INVALID_NAME',
        'INVALID_VALUE',
        'INVALID_TIMESTAMP',
        'INVALID_LABEL_KEY',
      ]);
    });
  });

  it('has a test case for every rejection code', () => {
    // Prepare: one item per code, in REJECTION_CODES order.
    const items: RawDatapoint[] = [
      { name: 'a', value: 1, labels: 'x' },
      { name: '', value: 1 },
      { name: 'a', value: 'x' },
      { name: 'a', value: Number.POSITIVE_INFINITY },
      { name: 'a', value: 1, timestamp: 'x' },
      { name: 'a', value: 1, timestamp: 0 },
      { name: 'a', value: 1, labels: labelsOf(17) },
      { name: 'a', value: 1, labels: { __x: 'v' } },
      { name: 'a', value: 1, labels: { x: '' } },
    ];

    // Act
    const { rejected } = validateDatapoints(items, NOW);

    // Assess
    expect(rejected.map((rejection) => rejection.code)).toEqual([...REJECTION_CODES]);
  });
});
