import { describe, expect, it } from 'vitest';
import { MAX_DATAPOINTS_PER_REQUEST } from '../../../functions/shared/domain/ingest/limits';
import { parseNativeBatch } from '../../../functions/shared/domain/ingest/native';
import { validateDatapoints } from '../../../functions/shared/domain/ingest/validate';
import { ValidationError } from '../../../functions/shared/errors';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');

describe('parseNativeBatch', () => {
  it('reads the four known fields of each item and ignores any other', () => {
    // Prepare
    const body = {
      metrics: [
        { name: 'cpu', value: 1, timestamp: NOW, labels: { host: 'a' }, unit: 'percent' },
        { name: 'mem', value: 2 },
      ],
    };

    // Act
    const items = parseNativeBatch(body);

    // Assess
    expect(items).toEqual([
      { name: 'cpu', value: 1, timestamp: NOW, labels: { host: 'a' } },
      { name: 'mem', value: 2, timestamp: undefined, labels: undefined },
    ]);
  });

  it('passes bad items on for validation to reject one by one, keeping their positions', () => {
    // Prepare
    const body = JSON.parse('{"metrics":[{"name":"ok","value":1},null,7,[],{"name":"x-y","value":1}]}');

    // Act
    const { accepted, rejected } = validateDatapoints(parseNativeBatch(body), NOW);

    // Assess
    expect(accepted.map((point) => point.index)).toEqual([0]);
    expect(rejected.map((rejection) => [rejection.index, rejection.code])).toEqual([
      [1, 'MALFORMED_ITEM'],
      [2, 'MALFORMED_ITEM'],
      [3, 'MALFORMED_ITEM'],
      [4, 'INVALID_NAME'],
    ]);
    expect(rejected[0]?.message).toContain('item must be an object');
  });

  it('does not read inherited properties of an item', () => {
    const item = Object.create({ name: 'inherited', value: 1 }) as object;

    const [raw] = parseNativeBatch({ metrics: [item] });

    expect(raw).toEqual({ name: undefined, value: undefined, timestamp: undefined, labels: undefined });
  });

  it.each([
    ['a string', 'cpu=1'],
    ['null', null],
    ['an array', [{ name: 'cpu', value: 1 }]],
    ['an object without metrics', { points: [] }],
    ['metrics that is not an array', { metrics: { name: 'cpu', value: 1 } }],
    ['an empty batch', { metrics: [] }],
  ])('rejects a body that is %s with a ValidationError', (_case, body) => {
    expect(() => parseNativeBatch(body)).toThrow(ValidationError);
  });

  it(`accepts ${MAX_DATAPOINTS_PER_REQUEST} items and rejects ${MAX_DATAPOINTS_PER_REQUEST + 1} as a whole`, () => {
    const batch = (n: number) => ({ metrics: Array.from({ length: n }, () => ({ name: 'cpu', value: 1 })) });

    expect(parseNativeBatch(batch(MAX_DATAPOINTS_PER_REQUEST))).toHaveLength(MAX_DATAPOINTS_PER_REQUEST);
    expect(() => parseNativeBatch(batch(MAX_DATAPOINTS_PER_REQUEST + 1))).toThrow(
      expect.objectContaining({
        issues: [{ path: 'metrics', message: 'at most 10000 datapoints per request; got 10001' }],
      }),
    );
  });
});
