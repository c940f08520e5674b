/**
 * Hostile-input fuzzing of every request validator. Whatever arrives, a validator either accepts
 * it or refuses it with a Pulseboard error that maps to a 4xx: never a 5xx, never a raw
 * TypeError/RangeError, and never a write to Object.prototype.
 *
 * Three kinds of input per validator: arbitrary values (fast-check `anything` with hostile keys,
 * strings and numbers), near-valid requests (a valid template with a few fields replaced, deleted
 * or added), and pathological nesting (20 000 levels, which JSON.parse accepts).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { changeUser, createKey, createUser } from '../../../functions/access-admin/access-api';
import { type TestTriggerDeps, triggerTestAlert } from '../../../functions/alerts/alerts-api';
import { login } from '../../../functions/auth/auth-api';
import { actOnIncident, listIncidents } from '../../../functions/incidents/incidents-api';
import { parseRouting, RoutingSource } from '../../../functions/shared/alerting/routing';
import { validateSilence } from '../../../functions/shared/domain/alerting/dispatch/silence';
import { timeOrderedId } from '../../../functions/shared/domain/alerting/ids';
import { parseRule } from '../../../functions/shared/domain/alerting/rules';
import { keyFromSeed } from '../../../functions/shared/domain/auth/tokens';
import { parseChannel } from '../../../functions/shared/domain/channels';
import { parseIngestRequest, validateDatapoints } from '../../../functions/shared/domain/ingest';
import { parseLabelValuesRequest, parseQuery } from '../../../functions/shared/domain/query';
import { NotFoundError, PulseboardError } from '../../../functions/shared/errors';
import { errorResponse } from '../../../functions/shared/http';
import { createSilence } from '../../../functions/silences/silences-api';
import { parseSubscriptionRequest } from '../../../functions/ws-subscriptions/subscriptions';
import { parseRuleFile } from '../../../lib/rule-file';
import { parseYaml } from '../../../lib/yaml';
import {
  MemoryEventBus,
  MemoryIncidentStore,
  MemoryRoutingStore,
  MemorySilenceStore,
  MemoryStateStore,
} from '../alerting/service/memory-ports';
import {
  MemoryApiKeyStore,
  MemoryThrottleStore,
  MemoryUserStore,
  StaticKeySource,
} from '../auth/memory-stores';

const NOW = Date.parse('2026-05-01T12:00:00Z');
const T_NANOS = `${NOW}000000`;
const clock = () => NOW;
/** Moderate runs, and a time cap so the whole file stays well under 20 s. */
const RUNS = { numRuns: 150, interruptAfterTimeLimit: 2_500 } as const;
const DEEP = 20_000;

// ---- the invariants ----------------------------------------------------------------------------

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
const ARRAY_PROTOTYPE_KEYS = Object.getOwnPropertyNames(Array.prototype).sort();

function expectUnpolluted(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.x).toBeUndefined();
  expect(probe.constructor).toBe(Object);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(ARRAY_PROTOTYPE_KEYS);
}

afterEach(expectUnpolluted);

/** A refusal must be a Pulseboard error the HTTP layer answers with a 4xx. */
function expectClientRefusal(error: unknown): void {
  if (!(error instanceof PulseboardError)) {
    throw new Error(
      `expected a Pulseboard error, got ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
  const status = errorResponse(error).statusCode ?? 500;
  if (status < 400 || status >= 500)
    throw new Error(`expected a 4xx, got ${status} for ${error.code}: ${error.message}`);
}

/** Runs a validator: success or a client refusal; and the prototypes stay clean either way. */
function settle<T>(run: () => T): { ok: true; value: T } | { ok: false } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    expectClientRefusal(error);
    return { ok: false };
  } finally {
    expectUnpolluted();
  }
}

async function settleAsync<T>(run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    expectClientRefusal(error);
    return { ok: false };
  } finally {
    expectUnpolluted();
  }
}

// ---- hostile building blocks -------------------------------------------------------------------

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'polluted',
  'length',
  '',
  ' ',
  '\u0000',
  '0',
  'a.b',
  '$where',
];

const HOSTILE_NUMBERS = [
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -0,
  0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53 + 2,
  -(2 ** 63),
  8.64e15 + 1,
  1e21,
  0.1,
  -1,
  2 ** 32,
];

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\n',
  '\r\n',
  '\t',
  '"',
  "'",
  '\\',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '1e400',
  '9'.repeat(400),
  '0.0001',
  '0x1F',
  '-1',
  '2026-05-01T12:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  'now',
  'now-1h',
  `now+${'9'.repeat(30)}w`,
  '.*',
  '(a+)+$',
  '(a|a)*b',
  '(?<x>a)\\k<x>',
  '[',
  '{{ $value }}',
  '{{',
  '\u0024{process.exit()}',
  '<script>alert(1)</script>',
  '\u202e',
  '\ud800',
  '🔥',
  'e\u0301',
  'x'.repeat(5_000),
  `pb_0123456789ab_${'A'.repeat(43)}`,
  'metrics:cpu{host=~"(a|a)*b"}',
  'a'.repeat(65),
  'critical',
  'ingest',
  'admin',
];

const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 }));
const hostileNumber = fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.double(), fc.integer());
const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);

/**
 * Any value, with hostile keys, strings and numbers at the leaves. Null-prototype objects are left
 * out: JSON.parse never makes them, and zod's length checks trip over them the same way they trip
 * over the JSON-reachable `{"length":{"toString":1}}` tested below.
 */
const hostileValue = fc.anything({
  maxDepth: 8,
  maxKeys: 6,
  key: hostileKey,
  values: [hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.constant(undefined)],
  withObjectString: true,
  withSparseArray: true,
});

/** Deep, narrow trees (fc.letrec), to reach recursion in validators. */
const { deepTree } = fc.letrec((tie) => ({
  deepTree: fc.oneof(
    { depthSize: 'large', maxDepth: 40 },
    hostileString,
    hostileNumber,
    fc.array(tie('deepTree'), { maxLength: 2 }),
    fc.dictionary(hostileKey, tie('deepTree'), { maxKeys: 2, noNullPrototype: true }),
  ),
}));

const anyInput = fc.oneof(hostileValue, deepTree);

/** Objects whose keys JSON.parse makes own properties: the classic prototype-pollution payloads. */
const POLLUTION_TEXTS = [
  '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"prototype":{"polluted":1},"toString":"x","valueOf":1,"hasOwnProperty":"y"}',
  '[{"__proto__":{"polluted":1}}]',
];
const POLLUTION_VALUES = () => POLLUTION_TEXTS.map((text) => JSON.parse(text) as unknown);

// ---- near-valid inputs --------------------------------------------------------------------------

type Path = readonly (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) out.push(...pathsOf(item, [...prefix, i]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) out.push(...pathsOf(item, [...prefix, key]));
  }
  return out;
}

/** Sets an own property, as JSON.parse does (so "__proto__" is a key, not the prototype). */
function define(target: object, key: string | number, value: unknown): void {
  if (Array.isArray(target) && key === 'length') return;
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function parentOf(root: unknown, path: Path): unknown {
  let node = root;
  for (const step of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[step];
  return node;
}

interface Mutation {
  readonly at: number;
  readonly op: 'replace' | 'delete' | 'add';
  readonly key: string;
  readonly value: unknown;
}

function mutate(template: unknown, mutations: readonly Mutation[]): unknown {
  let root = structuredClone(template);
  for (const { at, op, key, value } of mutations) {
    const paths = pathsOf(root);
    const path = paths[at % paths.length] as Path;
    if (op === 'add') {
      // JSON arrays never carry named keys, so keys are added to objects only.
      const node = path.length === 0 ? root : parentOf(root, path);
      if (typeof node === 'object' && node !== null && !Array.isArray(node)) define(node, key, value);
      continue;
    }
    if (path.length === 0) {
      if (op === 'replace') root = value;
      continue;
    }
    const parent = parentOf(root, path) as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    if (op === 'delete') delete parent[last];
    else define(parent, last, value);
  }
  return root;
}

/** Valid templates with one to four fields replaced by hostile values, deleted, or added. */
function nearValid(templates: readonly unknown[], value: fc.Arbitrary<unknown> = anyInput) {
  const mutation = fc.record({
    at: fc.nat(),
    op: fc.constantFrom('replace', 'replace', 'delete', 'add'),
    key: hostileKey,
    value,
  }) as fc.Arbitrary<Mutation>;
  return fc
    .tuple(fc.constantFrom(...templates), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([template, mutations]) => mutate(template, mutations));
}

function deepArray(depth = DEEP): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

function deepObject(depth = DEEP, key = 'a'): unknown {
  let value: unknown = {};
  for (let i = 0; i < depth; i++) value = { [key]: value };
  return value;
}

/** JSON text nested `depth` levels deep at the point where `value` would go. */
const deepJsonArray = (depth = DEEP) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepJsonObject = (depth = DEEP) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const DEEP_VALUES: readonly [string, () => unknown, () => string][] = [
  ['a deep array', () => deepArray(), () => deepJsonArray()],
  ['a deep object', () => deepObject(), () => deepJsonObject()],
  [
    'deep "routes"',
    () => deepObject(DEEP, 'routes'),
    () => `${'{"routes":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`,
  ],
];
const DEEP_MARKER = '\u0000deep\u0000';

/** Every template with each of its fields (and the whole of it) replaced by each deep value in turn. */
function deepVariants(
  templates: readonly unknown[],
): { label: string; value: () => unknown; text: () => string }[] {
  const out: { label: string; value: () => unknown; text: () => string }[] = [];
  for (const template of templates) {
    const paths = pathsOf(template);
    for (let at = 0; at < paths.length; at++) {
      const where = paths[at]?.join('.') || '(the body)';
      for (const [what, value, text] of DEEP_VALUES) {
        out.push({
          label: `${what} at ${where}`,
          value: () => mutate(template, [{ at, op: 'replace', key: '', value: value() }]),
          text: () =>
            (
              JSON.stringify(mutate(template, [{ at, op: 'replace', key: '', value: DEEP_MARKER }])) ?? ''
            ).replace(JSON.stringify(DEEP_MARKER), text()),
        });
      }
    }
  }
  return out;
}

// ---- templates --------------------------------------------------------------------------------

const NATIVE_BATCH = {
  metrics: [
    { name: 'cpu_usage', value: 0.5, timestamp: NOW - 1_000, labels: { host: 'web-1', env: 'prod' } },
    { name: 'mem', value: 3, timestamp: '2026-05-01T11:59:00Z' },
  ],
};

const OTLP_BATCH = {
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            {
              name: 'process.cpu.utilization',
              gauge: {
                dataPoints: [
                  {
                    timeUnixNano: T_NANOS,
                    asDouble: 0.42,
                    attributes: [
                      {
                        key: 'nested',
                        value: { kvlistValue: { values: [{ key: 'k', value: { intValue: '1' } }] } },
                      },
                    ],
                  },
                ],
              },
            },
            {
              name: 'requests',
              sum: {
                dataPoints: [{ timeUnixNano: T_NANOS, asInt: '1027', startTimeUnixNano: T_NANOS }],
                aggregationTemporality: 2,
                isMonotonic: true,
              },
            },
            {
              name: 'latency',
              histogram: {
                dataPoints: [
                  {
                    timeUnixNano: T_NANOS,
                    count: '20',
                    sum: 1950.5,
                    bucketCounts: ['2', '10', '4', '4', '0'],
                    explicitBounds: [10, 50, 100, 250],
                  },
                ],
                aggregationTemporality: 2,
              },
            },
            {
              name: 'rpc',
              summary: {
                dataPoints: [
                  {
                    timeUnixNano: T_NANOS,
                    count: '3',
                    sum: 3,
                    quantileValues: [{ quantile: 0.5, value: 1 }],
                  },
                ],
              },
            },
          ],
        },
      ],
    },
  ],
};

const RULES = [
  {
    name: 'HighCpu',
    metric: 'cpu_usage',
    severity: 'critical',
    kind: 'threshold',
    matchers: 'host="web-1", env=~"prod|stage"',
    op: '>',
    value: 90,
    for: '5m',
    keep_firing_for: '1m',
    labels: { team: 'ops' },
    annotations: { summary: 'CPU {{ $value }} on {{ $labels.host }}' },
  },
  {
    name: 'Flappy',
    metric: 'cpu_usage',
    severity: 'warning',
    kind: 'm_of_n',
    op: '>=',
    value: 5,
    m: 3,
    n: 5,
  },
  {
    name: 'Gone',
    metric: 'heartbeat',
    severity: 'info',
    kind: 'absence',
    for: '10m',
    matchers: '{job="api"}',
  },
  {
    name: 'Rising',
    metric: 'queue',
    severity: 'warning',
    kind: 'rate_of_change',
    op: '>',
    value: 10,
    window: '5m',
  },
  {
    name: 'Odd',
    metric: 'lat',
    severity: 'critical',
    kind: 'anomaly',
    method: 'stddev',
    window_points: 10,
    k: 2.5,
    direction: 'above',
  },
  { name: 'Ewma', metric: 'lat', severity: 'critical', kind: 'anomaly', method: 'ewma', alpha: 0.1 },
];

const SILENCE = {
  id: 's1',
  matchers: [
    { name: 'host', value: 'web-.*', isRegex: true, isEqual: true },
    { name: 'env', value: 'dev', isRegex: false, isEqual: false },
  ],
  startsAt: NOW,
  endsAt: NOW + 60_000,
  createdBy: 'ana',
  comment: 'deploy',
};

const SILENCE_REQUEST = {
  matchers: [{ name: 'host', value: 'web-1', isRegex: false }],
  startsAt: '2026-05-01T12:00:00Z',
  endsAt: '2026-05-01T13:00:00Z',
  createdBy: 'ana',
  comment: 'deploy',
};

const ROUTING = {
  route: {
    receiver: 'default',
    group_by: ['alertname'],
    group_wait: '10s',
    group_interval: '5m',
    repeat_interval: '4h',
    routes: [
      {
        matchers: ['env="prod"'],
        receiver: 'db',
        continue: true,
        routes: [{ match_re: { team: 'db|cache' }, match: { a: 'b' }, receiver: 'pager' }],
      },
    ],
  },
  inhibit_rules: [
    { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['cluster'] },
  ],
};

const SUBSCRIPTION = {
  action: 'subscribe',
  channels: ['system_metrics', 'alerts', 'metrics:cpu_usage{host="web-1",env=~"prod|stage"}'],
};

const QUERY = {
  name: 'cpu_usage',
  match: 'host="web-1",env=~"prod|stage"',
  from: 'now-1h',
  to: 'now',
  step: '1m',
  agg: 'avg',
  group_by: 'host,env',
};

const INCIDENT_FILTER = {
  status: 'open',
  receiver: 'pager',
  severity: 'critical',
  fingerprint: 'abc123',
  since: '2026-05-01T00:00:00Z',
  limit: '10',
  cursor: timeOrderedId(NOW, new Uint8Array(10)),
};

const TRIGGERS = [
  { severity: 'critical', labels: { team: 'sre' } },
  { resolve: timeOrderedId(NOW, new Uint8Array(10).fill(1)) },
];

// ---- dependencies --------------------------------------------------------------------------------

function triggerDeps(): TestTriggerDeps {
  let ids = 0;
  return {
    states: new MemoryStateStore(),
    events: new MemoryEventBus(),
    clock,
    routing: new RoutingSource(new MemoryRoutingStore()),
    newId: () => timeOrderedId(NOW, new Uint8Array(10).fill(++ids % 256)),
  };
}

/** Login deps whose throttle always reports a lock: valid bodies stop at a 429, before any scrypt. */
function lockedLoginDeps() {
  const throttle = new MemoryThrottleStore();
  throttle.get = async () => ({ failures: 99, lastFailureAt: NOW, lockedUntil: NOW + 60_000 });
  return {
    users: new MemoryUserStore(),
    throttle,
    keys: new StaticKeySource(keyFromSeed('fuzz')),
    issuer: 'i',
    clock,
  };
}

const ADMIN = { kind: 'user', subject: 'ada', role: 'admin' } as const;
const rejectingCorrelator = {
  acknowledge: async () => {
    throw new NotFoundError('no such incident');
  },
  resolve: async () => {
    throw new NotFoundError('no such incident');
  },
};

// ---- object validators (they read parsed JSON) ----------------------------------------------------

interface ObjectValidator {
  readonly name: string;
  readonly templates: readonly unknown[];
  readonly run: (input: unknown) => unknown;
  /** For validators that read request text: the same validator on the raw body. */
  readonly runText?: (text: string) => unknown;
  /** The code a valid template is refused with when the deps refuse it by design (a lock, a missing incident). */
  readonly templatesRefusedWith?: string;
}

const OBJECT_VALIDATORS: readonly ObjectValidator[] = [
  { name: 'parseRule', templates: RULES, run: (input) => parseRule(input) },
  { name: 'validateSilence', templates: [SILENCE], run: (input) => validateSilence(input, NOW) },
  {
    name: 'createSilence',
    templates: [SILENCE_REQUEST],
    run: (input) => createSilence(input, new MemorySilenceStore(), clock, () => 'silence-1'),
  },
  { name: 'parseRouting', templates: [ROUTING], run: (input) => parseRouting(input) },
  {
    name: 'triggerTestAlert',
    templates: TRIGGERS,
    run: async (input) => {
      // A first trigger makes the resolve template name a real test alert.
      const deps = triggerDeps();
      await triggerTestAlert({}, deps);
      return triggerTestAlert(input, deps);
    },
  },
  {
    name: 'login',
    templates: [{ username: 'alice', password: 'correct horse battery staple' }],
    run: (input) => login(input, '203.0.113.7', lockedLoginDeps()),
    templatesRefusedWith: 'TOO_MANY_ATTEMPTS',
  },
  {
    name: 'createUser',
    templates: [{ username: 'carol', password: 'correct horse battery staple', role: 'viewer' }],
    run: (input) => createUser(input, new MemoryUserStore(), clock),
  },
  {
    name: 'changeUser',
    templates: [{ role: 'editor' }],
    run: async (input) => {
      const users = new MemoryUserStore();
      await users.put({
        username: 'bob',
        role: 'viewer',
        passwordHash: 'scrypt$x',
        createdAt: 'a',
        updatedAt: 'a',
      });
      return changeUser('bob', input, ADMIN, users, clock);
    },
  },
  {
    name: 'createKey',
    templates: [{ name: 'edge agents', scope: 'ingest' }],
    run: (input) => createKey(input, ADMIN, new MemoryApiKeyStore(), clock),
  },
  {
    name: 'actOnIncident body',
    templates: [{ by: 'alice' }],
    run: (input) => actOnIncident(timeOrderedId(NOW, new Uint8Array(10)), 'ack', input, rejectingCorrelator),
    templatesRefusedWith: 'NOT_FOUND',
  },
  {
    name: 'parseIngestRequest (native, via JSON text)',
    templates: [NATIVE_BATCH],
    run: (input) => parseIngestRequest('application/json', JSON.stringify(input) ?? ''),
    runText: (text) => parseIngestRequest('application/json', text),
  },
  {
    name: 'parseIngestRequest (OTLP, via JSON text)',
    templates: [OTLP_BATCH],
    run: (input) =>
      parseIngestRequest('application/json', JSON.stringify(input) ?? '', { resourceAttributes: 'all' }),
    runText: (text) => parseIngestRequest('application/json', text, { resourceAttributes: 'all' }),
  },
];

describe.each(OBJECT_VALIDATORS)('$name', ({ templates, run, runText, templatesRefusedWith }) => {
  const check = async (input: unknown) => {
    await settleAsync(async () => (runText && typeof input === 'string' ? runText(input) : run(input)));
  };

  it('passes validation with its templates, so near-valid inputs start from valid ones', async () => {
    for (const template of templates) {
      const outcome = await Promise.resolve()
        .then(() => run(structuredClone(template)))
        .then(
          () => 'accepted',
          (error: unknown) => (error instanceof PulseboardError ? error.code : String(error)),
        );
      expect(outcome).toBe(templatesRefusedWith ?? 'accepted');
    }
  });

  it('answers arbitrary hostile values with success or a 4xx', async () => {
    await fc.assert(fc.asyncProperty(anyInput, check), RUNS);
  });

  it('answers near-valid requests with success or a 4xx', async () => {
    await fc.assert(fc.asyncProperty(nearValid(templates), check), RUNS);
  });

  it('answers prototype-pollution payloads, alone and inside a valid request, with success or a 4xx', async () => {
    for (const payload of POLLUTION_VALUES()) {
      await check(payload);
      for (const template of templates) {
        for (let at = 0; at < pathsOf(template).length; at++) {
          await check(mutate(template, [{ at, op: 'replace', key: '', value: payload }]));
          await check(
            mutate(template, [{ at, op: 'add', key: '__proto__', value: JSON.parse('{"polluted":1}') }]),
          );
        }
      }
    }
  });

  // Bug: fails for validateSilence and createSilence (a deep matchers[i].name reaches JSON.stringify in
  // labels.ts matcherFromParts) and parseRouting (a deep group_wait/group_interval/repeat_interval
  // reaches JSON.stringify in route.ts parseRoute's duration()): RangeError, so a 500.
  it('answers values nested 20 000 levels deep in any field with success or a 4xx', async () => {
    // Act: JSON.parse accepts any depth, so a 40 kB body can nest 20 000 levels anywhere.
    const failures: string[] = [];
    for (const variant of deepVariants(templates)) {
      try {
        if (runText) await check(variant.text());
        else await check(variant.value());
      } catch (error) {
        failures.push(
          `${variant.label}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        );
      }
    }

    // Assess
    expect(failures).toEqual([]);
  });
});

// ---- text validators -----------------------------------------------------------------------------

const jsonTexts = (templates: readonly unknown[]) =>
  fc.oneof(
    hostileString,
    fc.json({ maxDepth: 6 }),
    nearValid(templates, fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 4 }))).map(
      (v) => JSON.stringify(v) ?? '',
    ),
    fc.constantFrom(
      ...POLLUTION_TEXTS,
      '{"metrics":[{"name":"x","value":1e400}]}',
      '{"metrics":[{"name":"x","value":-0,"timestamp":1e308}]}',
      deepJsonArray(),
      deepJsonObject(),
      `{"metrics":${deepJsonArray()}}`,
      `{"resourceMetrics":[{"scopeMetrics":[{"metrics":${deepJsonArray()}}]}]}`,
      `{"action":"subscribe","channels":${deepJsonArray()}}`,
      `{"rules":[${deepJsonObject()}]}`,
    ),
  );

describe('parseIngestRequest and validateDatapoints', () => {
  const CONTENT_TYPES = [
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'text/plain; version=0.0.4',
    'text/plain; version=1.0.0',
    'application/x-protobuf',
    '',
    ';;;',
    'APPLICATION/JSON',
    'text/plain; version="0.0.4"; charset',
  ];
  const contentType = fc.oneof(fc.constantFrom(...CONTENT_TYPES), hostileString);
  const promText = fc.string({
    unit: fc.constantFrom(
      'cpu',
      '{',
      '}',
      '=',
      '"',
      ',',
      ' ',
      '\n',
      '# TYPE ',
      '# HELP ',
      'counter',
      '1',
      '-',
      '.',
      'e',
      '+Inf',
      'NaN',
      '\\',
      'le',
      '_bucket',
      '1e400',
      'host',
    ),
    maxLength: 60,
  });

  it('answers any body under any content type with items or a 4xx, and validation never throws', () => {
    fc.assert(
      fc.property(
        contentType,
        fc.oneof(jsonTexts([NATIVE_BATCH, OTLP_BATCH]), promText),
        fc.constantFrom<{ resourceAttributes?: 'all' | string[] }>(
          {},
          { resourceAttributes: 'all' },
          { resourceAttributes: ['service.name', '__proto__'] },
        ),
        (type, text, options) => {
          const parsed = settle(() => parseIngestRequest(type, text, options));
          if (!parsed.ok) return;
          const { accepted, rejected } = validateDatapoints(parsed.value.items, NOW);
          expect(accepted.length + rejected.length).toBe(parsed.value.items.length);
          for (const point of accepted) {
            expect(Number.isFinite(point.value)).toBe(true);
            expect(Number.isFinite(point.timestamp)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it('never throws on arbitrary datapoint-shaped items, and sorts each into exactly one list', () => {
    const items = fc.array(
      fc.oneof(
        anyInput,
        nearValid(NATIVE_BATCH.metrics),
        fc.record(
          {
            name: fc.oneof(hostileString, hostileValue),
            value: fc.oneof(hostileNumber, hostileValue),
            timestamp: fc.oneof(hostileNumber, hostileString),
            labels: fc.oneof(
              fc.dictionary(hostileKey, hostileString, { noNullPrototype: true }),
              hostileValue,
            ),
          },
          { requiredKeys: [], noNullPrototype: true },
        ),
      ),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(items, (batch) => {
        const { accepted, rejected } = validateDatapoints(batch as never, NOW);
        const indexes = [...accepted.map((a) => a.index), ...rejected.map((r) => r.index)].sort(
          (a, b) => a - b,
        );
        expect(indexes).toEqual(batch.map((_, i) => i));
        for (const point of accepted) {
          expect(Number.isFinite(point.value)).toBe(true);
          expect(Object.getPrototypeOf(point.labels)).not.toHaveProperty('polluted');
        }
        expectUnpolluted();
      }),
      RUNS,
    );
  });
});

// Bug: zod 4's length checks (minLength/maxLength) still run after z.string() or z.array() has
// refused the type, whenever the value has a non-null `length`, and compare that length with a
// number. A JSON object whose `length` cannot become a primitive makes the comparison throw a
// TypeError, which parseWith (and parseSubscriptionRequest) let through: a 500, on the public
// login route too.
describe('zod-backed validators and a "length" that is no number', () => {
  const TRAP_TEXT = '{"length":{"toString":1,"valueOf":1}}';
  const trap = () => JSON.parse(TRAP_TEXT) as unknown;
  const cases: [string, () => unknown][] = [
    [
      'login password',
      () => login({ username: 'alice', password: trap() }, '203.0.113.7', lockedLoginDeps()),
    ],
    ['login username', () => login({ username: trap(), password: 'x' }, '203.0.113.7', lockedLoginDeps())],
    [
      'createUser password',
      () => createUser({ username: 'carol', password: trap(), role: 'viewer' }, new MemoryUserStore(), clock),
    ],
    ['createKey name', () => createKey({ name: trap() }, ADMIN, new MemoryApiKeyStore(), clock)],
    [
      'parseSubscriptionRequest channels',
      () => parseSubscriptionRequest(`{"action":"subscribe","channels":${TRAP_TEXT}}`),
    ],
  ];

  it.each(cases)('refuses it in the %s with a 4xx', async (_, run) => {
    // Act / Assess
    await settleAsync(async () => run());
  });
});

describe('parseSubscriptionRequest', () => {
  it('answers any WebSocket frame with a request or a 4xx', () => {
    fc.assert(
      fc.property(fc.oneof(jsonTexts([SUBSCRIPTION]), fc.constant(undefined)), (frame) => {
        settle(() => parseSubscriptionRequest(frame));
      }),
      RUNS,
    );
  });
});

const channelText = fc.oneof(
  hostileString,
  fc
    .string({
      unit: fc.constantFrom(
        'metrics:',
        'cpu',
        'a',
        '_',
        ':',
        '{',
        '}',
        '=',
        '!=',
        '=~',
        '!~',
        '"',
        ',',
        ' ',
        '.*',
        '(',
        ')',
        '+',
        '*',
        '?',
        '|',
        '[',
        ']',
        '^',
        '$',
        '{2,}',
        '\\',
        '\\u0041',
        '\u0000',
        'é',
        'system_metrics',
      ),
      maxLength: 30,
    })
    .map((tail) => (tail.startsWith('metrics:') ? tail : `metrics:${tail}`)),
);

describe('parseChannel', () => {
  it('answers any channel text with a channel or a 4xx', () => {
    fc.assert(
      fc.property(channelText, (text) => {
        settle(() => parseChannel(text));
      }),
      RUNS,
    );
  });
});

const yamlText = fc.oneof(
  hostileString,
  fc.string({
    unit: fc.constantFrom(
      'rules:',
      '\n',
      '  ',
      '- ',
      'name: ',
      'HighCpu',
      'kind: threshold',
      'value: ',
      '.inf',
      '.nan',
      '~',
      'null',
      '1e400',
      '-0',
      '|',
      '>',
      '|-',
      '>+',
      '"',
      "'",
      '#',
      '---',
      '[]',
      '{}',
      '[1]',
      '\t',
      ': ',
      '&a',
      '*a',
      '!tag',
      '__proto__: ',
      'constructor: ',
      'polluted: 1',
      '\\u0000',
      "op: '>'",
    ),
    maxLength: 40,
  }),
);

describe('parseRuleFile and parseYaml', () => {
  it('answers any YAML text with a document or a 4xx', () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        settle(() => parseYaml(text, 'fuzz'));
        settle(() => parseRuleFile(text, 'yaml'));
      }),
      RUNS,
    );
  });

  it('answers any JSON rule file with rules or a 4xx', () => {
    const files = fc.oneof(
      jsonTexts([{ rules: RULES }]),
      fc.array(nearValid(RULES), { maxLength: 3 }).map((rules) => JSON.stringify({ rules }) ?? ''),
    );
    fc.assert(
      fc.property(files, (text) => {
        settle(() => parseRuleFile(text, 'json'));
      }),
      RUNS,
    );
  });

  it('refuses pathologically deep YAML and JSON rule files with a 4xx', () => {
    // Prepare
    const deepSequence = Array.from({ length: 5_000 }, (_, i) => `${' '.repeat(i * 2)}- `).join('\n');
    const deepMapping = Array.from({ length: 5_000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    const inline = `rules:\n${'- '.repeat(50_000)}x`;

    // Act / Assess
    for (const text of [deepSequence, deepMapping, inline, `__proto__:\n  polluted: 1\n`]) {
      settle(() => parseYaml(text, 'fuzz'));
      settle(() => parseRuleFile(text, 'yaml'));
    }
    for (const text of [
      deepJsonArray(),
      deepJsonObject(),
      `{"rules":${deepJsonArray()}}`,
      `{"rules":[${deepJsonObject()}]}`,
    ]) {
      settle(() => parseRuleFile(text, 'json'));
    }
  });
});

// ---- query-string validators -----------------------------------------------------------------------

/** Query-string objects: string values only (API Gateway joins repeated keys with commas). */
const queryObject = (template: Record<string, string>) =>
  fc.oneof(
    fc.dictionary(
      fc.oneof(fc.constantFrom(...Object.keys(template)), hostileKey),
      fc.option(hostileString, { nil: undefined }),
      { maxKeys: 8, noNullPrototype: true },
    ),
    nearValid([template], hostileString) as fc.Arbitrary<Record<string, string | undefined>>,
  );

describe('listIncidents filter', () => {
  it('answers any query string with a page or a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(queryObject(INCIDENT_FILTER), async (query) => {
        await settleAsync(() => listIncidents(query, new MemoryIncidentStore()));
      }),
      RUNS,
    );
  });
});

describe('metrics query parameters', () => {
  it('answers any query string with a query or a 4xx, and what it accepts is a finite, positive plan', () => {
    fc.assert(
      fc.property(queryObject(QUERY), (params) => {
        const parsed = settle(() => parseQuery(params, NOW));
        if (!parsed.ok) return;
        const { from, to, step } = parsed.value;
        expect(Number.isFinite(from) && Number.isFinite(to)).toBe(true);
        expect(from).toBeLessThan(to);
        if (step !== undefined) {
          expect(Number.isFinite(step)).toBe(true);
          expect(step).toBeGreaterThan(0);
        }
      }),
      RUNS,
    );
  });

  // Bug: parseDuration only checks `ms > 0` before rounding, so a 400-digit step is accepted as
  // Infinity (the plan's from and to become NaN) and 0.0001 s is accepted as a step of 0 ms.
  it.each([
    ['a 400-digit step (Infinity)', '9'.repeat(400)],
    ['a step that rounds to 0 ms', '0.0001'],
  ])('refuses %s instead of accepting it', (_, step) => {
    // Act
    const parsed = settle(() => parseQuery({ name: 'cpu_usage', step }, NOW));

    // Assess
    expect(parsed.ok).toBe(false);
  });

  it('answers any label-values request with a request or a 4xx', () => {
    fc.assert(
      fc.property(
        fc.option(hostileString, { nil: undefined }),
        fc.option(hostileString, { nil: undefined }),
        (label, name) => {
          settle(() => parseLabelValuesRequest(label, name));
        },
      ),
      RUNS,
    );
  });
});
