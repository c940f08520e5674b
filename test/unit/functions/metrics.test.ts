import { describe, expect, it } from 'vitest';
import { parseMetricBatch, seriesKey } from '../../../functions/shared/domain/metrics';
import { ValidationError } from '../../../functions/shared/errors';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');

describe('parseMetricBatch', () => {
  it('stamps points without a timestamp with the current time and defaults labels to empty', () => {
    const points = parseMetricBatch({ metrics: [{ name: 'cpu_usage', value: 12.5 }] }, NOW);

    expect(points).toEqual([{ name: 'cpu_usage', value: 12.5, timestamp: NOW, labels: {} }]);
  });

  it('accepts epoch-millisecond and ISO 8601 timestamps', () => {
    const points = parseMetricBatch(
      {
        metrics: [
          { name: 'a', value: 1, timestamp: 1_700_000_000_000 },
          { name: 'b', value: 2, timestamp: '2026-11-24T05:59:00Z' },
        ],
      },
      NOW,
    );

    expect(points.map((p) => p.timestamp)).toEqual([1_700_000_000_000, Date.parse('2026-11-24T05:59:00Z')]);
  });

  it.each([
    ['a missing metrics array', {}],
    ['an empty batch', { metrics: [] }],
    ['a bad metric name', { metrics: [{ name: '1cpu', value: 1 }] }],
    ['a non-numeric value', { metrics: [{ name: 'cpu', value: '12' }] }],
    ['a label key with a dash', { metrics: [{ name: 'cpu', value: 1, labels: { 'bad-key': 'x' } }] }],
    ['a non-string label value', { metrics: [{ name: 'cpu', value: 1, labels: { host: 3 } }] }],
    [
      '17 labels',
      {
        metrics: [
          {
            name: 'cpu',
            value: 1,
            labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v'])),
          },
        ],
      },
    ],
    ['an unparseable timestamp', { metrics: [{ name: 'cpu', value: 1, timestamp: 'yesterday' }] }],
    ['a batch of 1001 points', { metrics: Array.from({ length: 1001 }, () => ({ name: 'cpu', value: 1 })) }],
    ['a non-object body', 'cpu=1'],
  ])('rejects %s with a validation error that says where', (_case, body) => {
    const error = captureError(() => parseMetricBatch(body, NOW));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.length).toBeGreaterThan(0);
  });

  it('rejects infinite values, which JSON cannot carry but a caller could pass', () => {
    expect(() =>
      parseMetricBatch({ metrics: [{ name: 'cpu', value: Number.POSITIVE_INFINITY }] }, NOW),
    ).toThrow(ValidationError);
  });
});

describe('seriesKey', () => {
  it('is the same whatever order the labels come in', () => {
    expect(seriesKey('cpu', { b: '2', a: '1' })).toBe(seriesKey('cpu', { a: '1', b: '2' }));
    expect(seriesKey('cpu', { b: '2', a: '1' })).toBe('cpu{a="1",b="2"}');
  });

  it('escapes quotes so distinct label sets never collide', () => {
    expect(seriesKey('m', { a: 'x",b="y' })).not.toBe(seriesKey('m', { a: 'x', b: 'y' }));
  });
});

function captureError(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
}
