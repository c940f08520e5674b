import { afterEach, describe, expect, it } from 'vitest';
import { parseIngestRequest } from '../../../functions/shared/domain/ingest/index';
import { parseNativeBatch } from '../../../functions/shared/domain/ingest/native';
import { parseOtlpJson } from '../../../functions/shared/domain/ingest/otlp';
import { parsePrometheusText } from '../../../functions/shared/domain/ingest/prometheus';
import {
  type RawDatapoint,
  REJECTION_CODES,
  validateDatapoints,
} from '../../../functions/shared/domain/ingest/validate';
import { PulseboardError, ValidationError } from '../../../functions/shared/errors';
import { seededRandom as random } from '../../support/random';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/** Asserts no parse or validation left anything behind on Object.prototype. */
function expectPrototypeUntouched(): void {
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(probe.name).toBeUndefined();
  expect(probe.value).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  expect(probe.constructor).toBe(Object);
}

afterEach(expectPrototypeUntouched);

describe('prototype-pollution keys', () => {
  it('rejects __proto__ as a label key in a native batch without polluting Object.prototype', () => {
    // Prepare: JSON.parse makes "__proto__" an own key, as a real request body would.
    const body = JSON.parse(
      '{"metrics":[{"name":"cpu","value":1,"labels":{"__proto__":{"polluted":"yes"}}}]}',
    );

    // Act
    const { accepted, rejected } = validateDatapoints(parseNativeBatch(body), NOW);

    // Assess
    expect(accepted).toEqual([]);
    expect(rejected).toEqual([
      {
        index: 0,
        code: 'INVALID_LABEL_KEY',
        message: 'label key "__proto__" starts with "__", which is reserved',
      },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps constructor and prototype as ordinary own labels', () => {
    // Prepare
    const body = JSON.parse(
      '{"metrics":[{"name":"cpu","value":1,"labels":{"constructor":"c","prototype":"p"}}]}',
    );

    // Act
    const { accepted } = validateDatapoints(parseNativeBatch(body), NOW);

    // Assess
    const labels = accepted[0]?.labels ?? {};
    expect(Object.keys(labels)).toEqual(['constructor', 'prototype']);
    expect(Object.getOwnPropertyDescriptor(labels, 'constructor')?.value).toBe('c');
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it('does not take fields from an item whose __proto__ key holds them', () => {
    const body = JSON.parse('{"metrics":[{"__proto__":{"name":"cpu","value":1}}]}');

    const { rejected } = validateDatapoints(parseNativeBatch(body), NOW);

    expect(rejected[0]?.code).toBe('INVALID_NAME');
  });

  it('rejects __proto__ labels from Prometheus text and OTLP without polluting', () => {
    // Prepare
    const prometheus = parsePrometheusText('a{__proto__="x",constructor="y"} 1');
    const otlp = parseOtlpJson(
      JSON.parse(`{"resourceMetrics":[{"resource":{"attributes":[
        {"key":"__proto__","value":{"kvlistValue":{"values":[{"key":"__proto__","value":{"stringValue":"p"}}]}}}
      ]},"scopeMetrics":[{"metrics":[{"name":"__proto__","gauge":{"dataPoints":[{"asDouble":1}]}}]}]}]}`),
    );

    // Act
    const outcome = validateDatapoints([...prometheus, ...otlp], NOW);

    // Assess
    expect(outcome.rejected.map((rejection) => rejection.code)).toEqual([
      'INVALID_LABEL_KEY',
      'INVALID_LABEL_KEY',
    ]);
  });

  it('reads an OTLP kvlist with a __proto__ key as JSON text, not as a prototype', () => {
    const body =
      JSON.parse(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[
      {"asDouble":1,"attributes":[{"key":"meta","value":{"kvlistValue":{"values":[
        {"key":"__proto__","value":{"kvlistValue":{"values":[{"key":"polluted","value":{"stringValue":"yes"}}]}}}
      ]}}}]}]}}]}]}]}`);

    const { accepted } = validateDatapoints(parseOtlpJson(body), NOW);

    expect(accepted[0]?.labels).toEqual({ meta: '{"__proto__":{"polluted":"yes"}}' });
  });
});

// ---------------------------------------------------------------------------------------------
// Property-style checks: a seeded generator of hostile values, no extra packages.

type Random = () => number;
const pick = <T>(rand: Random, options: readonly T[]): T => options[Math.floor(rand() * options.length)] as T;

const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__name__',
  'name',
  'value',
];
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '😀'.repeat(300),
  'é'.repeat(513),
  '\u202e\u0301',
  'a'.repeat(100_000),
  '{"__proto__":{"polluted":1}}',
  '1e309',
  'NaN',
  '-Infinity',
  '2026-02-30T00:00:00Z',
  '2026-11-24T06:00:00Z',
];
const NASTY_NUMBERS = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER + 2,
  NOW,
  NOW + 1e12,
  1.5,
];

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let value = leaf;
  // One child per level: a shared child twice per level would make JSON.stringify walk 2^depth nodes.
  for (let i = 0; i < depth; i++) {
    const level: object = asArray ? [value] : { a: value };
    Object.defineProperty(level, '__proto__', { value: i, enumerable: true });
    value = level;
  }
  return value;
}

function hostileValue(rand: Random, depth = 0): unknown {
  const choice = Math.floor(rand() * 10);
  switch (choice) {
    case 0:
      return pick(rand, NASTY_NUMBERS);
    case 1:
      return pick(rand, NASTY_STRINGS);
    case 2:
      return Array.from({ length: Math.floor(rand() * 200) }, () =>
        String.fromCodePoint(Math.floor(rand() * 0x10ffff)),
      ).join('');
    case 3:
      return nested(pick(rand, [2, 10, 100, 5000]), pick(rand, NASTY_STRINGS), rand() < 0.5);
    case 4:
      return pick(rand, [null, undefined, true, false, 12n, Symbol('s'), () => 1]);
    case 5:
    case 6: {
      if (depth > 2) return null;
      const object: Record<string, unknown> = {};
      const count = Math.floor(rand() * 6);
      for (let i = 0; i < count; i++) {
        Object.defineProperty(object, rand() < 0.5 ? pick(rand, NASTY_KEYS) : `k${i}`, {
          value: hostileValue(rand, depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return object;
    }
    case 7:
      return depth > 2
        ? []
        : Array.from({ length: Math.floor(rand() * 5) }, () => hostileValue(rand, depth + 1));
    default:
      return pick(rand, ['cpu', 'a:b', 'x'.repeat(201), '1abc']);
  }
}

function hostileItem(rand: Random): RawDatapoint {
  if (rand() < 0.1) return hostileValue(rand) as RawDatapoint;
  return {
    name: rand() < 0.5 ? 'cpu' : hostileValue(rand),
    value: rand() < 0.3 ? 1 : hostileValue(rand),
    timestamp: rand() < 0.3 ? undefined : hostileValue(rand),
    labels: rand() < 0.3 ? { host: 'a' } : hostileValue(rand),
  };
}

/** A random OTLP-ish request: the right skeleton, with hostile values in random places. */
function hostileOtlp(rand: Random): unknown {
  const maybe = (good: unknown) => (rand() < 0.2 ? hostileValue(rand) : good);
  const attribute = () =>
    maybe({
      key: maybe(pick(rand, NASTY_KEYS)),
      value: maybe({
        [pick(rand, [
          'stringValue',
          'intValue',
          'doubleValue',
          'boolValue',
          'arrayValue',
          'kvlistValue',
          'bytesValue',
        ])]: hostileValue(rand),
      }),
    });
  const point = () =>
    maybe({
      attributes: maybe([attribute(), attribute()]),
      timeUnixNano: maybe(`${NOW}000000`),
      asDouble: maybe(1),
      count: maybe('3'),
      sum: maybe(2),
      min: maybe(0),
      max: maybe(9),
      bucketCounts: maybe(['1', '1', '1']),
      explicitBounds: maybe([1, 5]),
      scale: maybe(pick(rand, [0, 3, 20, -10, 21])),
      zeroCount: maybe('1'),
      positive: maybe({ offset: maybe(-5), bucketCounts: maybe(['1', '2']) }),
      negative: maybe({ offset: maybe(1e9), bucketCounts: maybe(['1']) }),
      quantileValues: maybe([{ quantile: maybe(0.5), value: maybe(1) }]),
      flags: maybe(0),
    });
  const kind = pick(rand, ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary', 'unknown']);
  return maybe({
    resourceMetrics: maybe([
      maybe({
        resource: maybe({ attributes: maybe([attribute(), attribute()]) }),
        scopeMetrics: maybe([
          maybe({
            metrics: maybe([
              maybe({ name: maybe('m.x'), [kind]: maybe({ dataPoints: maybe([point(), point()]) }) }),
            ]),
          }),
        ]),
      }),
    ]),
  });
}

function hostileText(rand: Random): string {
  const fragments = [
    'a',
    '{',
    '}',
    '"',
    '\\',
    '=',
    ',',
    ' ',
    '\t',
    '\n',
    '\r\n',
    '#',
    ' TYPE ',
    ' HELP ',
    '1',
    'NaN',
    '+Inf',
    'e',
    '-',
    '.',
    '__proto__',
    '😀',
    '\ud800',
    'le="0.5"',
  ];
  return Array.from({ length: Math.floor(rand() * 300) }, () => pick(rand, fragments)).join('');
}

function expectOnlyDocumentedErrors(action: () => unknown, allowed: (error: unknown) => boolean): void {
  try {
    action();
  } catch (error) {
    expect(allowed(error), `unexpected ${String(error)}`).toBe(true);
  }
}

function expectCompleteOutcome(items: readonly RawDatapoint[]): void {
  const { accepted, rejected } = validateDatapoints(items, NOW);
  const indexes = [...accepted.map((point) => point.index), ...rejected.map((rejection) => rejection.index)];
  expect(indexes.sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
  for (const rejection of rejected) {
    expect(REJECTION_CODES).toContain(rejection.code);
    expect(rejection.message.length).toBeLessThan(600);
  }
  for (const point of accepted) {
    expect(Number.isFinite(point.value)).toBe(true);
    expect(Object.values(point.labels).every((value) => typeof value === 'string' && value !== '')).toBe(
      true,
    );
  }
}

describe('hostile input, seeded', () => {
  const SEEDS = Array.from({ length: 12 }, (_, i) => 0x5eed + i);

  it.each(SEEDS)(
    'validateDatapoints gives every item exactly one outcome and never throws (seed %i)',
    (seed) => {
      const rand = random(seed);
      const items = Array.from({ length: 50 }, () => hostileItem(rand));

      expectCompleteOutcome(items);
    },
  );

  it.each(SEEDS)('parseNativeBatch throws nothing but ValidationError (seed %i)', (seed) => {
    const rand = random(seed);
    for (let i = 0; i < 20; i++) {
      const body =
        rand() < 0.7 ? { metrics: Array.from({ length: 10 }, () => hostileItem(rand)) } : hostileValue(rand);
      expectOnlyDocumentedErrors(
        () => expectCompleteOutcome(parseNativeBatch(body)),
        (error) => error instanceof ValidationError,
      );
    }
  });

  it.each(SEEDS)('parseOtlpJson throws nothing but ValidationError (seed %i)', (seed) => {
    const rand = random(seed);
    for (let i = 0; i < 30; i++) {
      expectOnlyDocumentedErrors(
        () => expectCompleteOutcome(parseOtlpJson(hostileOtlp(rand))),
        (error) => error instanceof ValidationError,
      );
    }
  });

  it.each(SEEDS)('parsePrometheusText never throws for garbage text (seed %i)', (seed) => {
    const rand = random(seed);
    for (let i = 0; i < 30; i++) {
      expectCompleteOutcome(parsePrometheusText(hostileText(rand)));
    }
  });

  it.each(SEEDS)(
    'parseIngestRequest throws nothing but PulseboardErrors for any body and type (seed %i)',
    (seed) => {
      const rand = random(seed);
      for (let i = 0; i < 20; i++) {
        const contentType = pick(rand, [
          'application/json',
          'text/plain',
          'application/x-protobuf',
          undefined,
          'x/y',
        ]);
        const value = rand() < 0.5 ? hostileOtlp(rand) : { metrics: [hostileItem(rand)] };
        let body: string;
        try {
          body =
            rand() < 0.8
              ? (JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? '')
              : hostileText(rand);
        } catch {
          body = hostileText(rand); // JSON.stringify itself gives up on very deep nesting
        }
        expectOnlyDocumentedErrors(
          () => expectCompleteOutcome(parseIngestRequest(contentType, body).items),
          (error) => error instanceof PulseboardError,
        );
      }
    },
  );

  it('survives JSON nested 100,000 levels deep', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

    expectOnlyDocumentedErrors(
      () => parseIngestRequest('application/json', `{"metrics":[{"name":"a","value":1,"labels":${deep}}]}`),
      (error) => error instanceof PulseboardError,
    );
    expectOnlyDocumentedErrors(
      () => parseIngestRequest('application/json', `{"resourceMetrics":${deep}}`),
      (error) => error instanceof PulseboardError,
    );
  });
});
