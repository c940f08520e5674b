import { describe, expect, it } from 'vitest';
import { decodeSketch, encodeSketch } from '../../../functions/shared/domain/blocks';
import { exactQuantile } from '../../../functions/shared/domain/query';
import { SKETCH_RELATIVE_ACCURACY, Sketch } from '../../../functions/shared/domain/sketch';
import { seededRandom as random } from '../../support/random';

const distributions: [string, (r: () => number) => number][] = [
  ['uniform 0..100', (r) => r() * 100],
  [
    'log-normal latencies',
    (r) => Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r())),
  ],
  ['mixed signs with zeros', (r) => (r() < 0.1 ? 0 : (r() - 0.5) * 2000)],
];

describe('DDSketch', () => {
  it.each(distributions)(
    'answers p50/p95/p99 within 1 %% relative error of the exact value (%s)',
    (_name, draw) => {
      // Prepare
      const next = random(42);
      const values = Array.from({ length: 20_000 }, () => draw(next));
      const sketch = new Sketch();
      for (const v of values) sketch.add(v);

      // Act + Assess
      for (const q of [0, 0.01, 0.5, 0.9, 0.95, 0.99, 1]) {
        const exact = exactQuantile(values, q);
        const estimate = sketch.quantile(q);
        expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(
          SKETCH_RELATIVE_ACCURACY * Math.abs(exact) + 1e-12,
        );
      }
    },
  );

  it('merges into the same sketch as adding everything to one, in any grouping', () => {
    const next = random(7);
    const parts = [0, 1, 2].map(() => Array.from({ length: 500 }, () => next() * 1000));
    const [a, b, c] = parts.map((values) => values.reduce((s, v) => s.add(v), new Sketch())) as [
      Sketch,
      Sketch,
      Sketch,
    ];
    const whole = parts.flat().reduce((s, v) => s.add(v), new Sketch());

    const left = a.clone().merge(b).merge(c);
    const right = a.clone().merge(b.clone().merge(c));

    expect(left).toEqual(whole);
    expect(right).toEqual(whole);
  });

  it('survives its binary encoding unchanged', () => {
    const sketch = new Sketch();
    for (const v of [-5, -0.5, 0, 0, 1e-3, 3, 3, 1e6]) sketch.add(v);

    expect(decodeSketch(encodeSketch(sketch))).toEqual(sketch);
  });

  it('answers NaN when empty', () => {
    expect(new Sketch().quantile(0.5)).toBeNaN();
  });
});
