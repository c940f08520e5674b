import { describe, expect, it } from 'vitest';
import { seriesKey } from '../../../functions/shared/domain/metrics';

describe('seriesKey', () => {
  it('is the same whatever order the labels come in', () => {
    expect(seriesKey('cpu', { b: '2', a: '1' })).toBe(seriesKey('cpu', { a: '1', b: '2' }));
    expect(seriesKey('cpu', { b: '2', a: '1' })).toBe('cpu{a="1",b="2"}');
  });

  it('escapes quotes so distinct label sets never collide', () => {
    expect(seriesKey('m', { a: 'x",b="y' })).not.toBe(seriesKey('m', { a: 'x', b: 'y' }));
  });
});
