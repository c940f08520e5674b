import { describe, expect, it } from 'vitest';
import {
  evaluateDatapoints,
  retireRule,
  SELECTOR_KEY,
  stateKey,
  sweepRules,
} from '../../../../functions/shared/alerting/evaluation-service';
import { type AlertRule, parseRule } from '../../../../functions/shared/domain/alerting/rules';
import type { Datapoint } from '../../../../functions/shared/domain/metrics';
import { MemoryEventBus, MemoryStateStore } from './memory-ports';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const MINUTE = 60_000;
const web1 = { host: 'web-1' };

function rule(fields: Record<string, unknown>): AlertRule {
  return parseRule({ name: 'HighCpu', metric: 'cpu_usage', severity: 'critical', ...fields });
}
const highCpu = rule({ kind: 'threshold', op: '>', value: 90 });
const point = (value: number, at: number, labels: Record<string, string> = web1): Datapoint => ({
  name: 'cpu_usage',
  labels,
  value,
  timestamp: at,
});

function setup(now = T0) {
  const states = new MemoryStateStore();
  const events = new MemoryEventBus();
  const clock = { now };
  return { states, events, clock, deps: { states, events, clock: () => clock.now } };
}

describe('evaluation on ingest', () => {
  it('publishes a firing once, after the state is stored, and empties the outbox', async () => {
    // Prepare
    const { states, events, deps } = setup();
    // Act
    const outcome = await evaluateDatapoints([highCpu], [point(95, T0)], deps);
    await evaluateDatapoints([highCpu], [point(97, T0 + 1000)], deps);
    // Assess
    expect(events.published.map((t) => [t.status, t.labels.host])).toEqual([['firing', 'web-1']]);
    expect(outcome.eventIds).toEqual(['event-0']);
    const stored = (await states.getMany('HighCpu', [stateKey(web1)])).get(stateKey(web1));
    expect(stored?.state.phase).toBe('firing');
    expect(stored?.outbox).toEqual([]);
  });

  it('ignores points of other metrics and of series the matchers exclude', async () => {
    const { events, deps } = setup();
    const onlyWeb = rule({ kind: 'threshold', op: '>', value: 90, matchers: 'host="web-2"' });
    await evaluateDatapoints([onlyWeb], [point(99, T0), { ...point(99, T0), name: 'mem_usage' }], deps);
    expect(events.published).toEqual([]);
  });

  it('writes nothing for a healthy threshold series, so a quiet fleet costs no state writes', async () => {
    const { states, deps } = setup();
    await evaluateDatapoints([highCpu], [point(10, T0), point(20, T0 + 1000, { host: 'web-2' })], deps);
    expect(states.puts).toBe(0);
  });

  it('fires once when another evaluator wins the race for the same series', async () => {
    // Prepare: a second invocation evaluates the same breach and writes between our read and our write.
    const { states, events, deps } = setup();
    const rivalBus = new MemoryEventBus();
    let conflicts = 0;
    states.beforePut = async () => {
      await evaluateDatapoints([highCpu], [point(95, T0)], { ...deps, events: rivalBus });
      conflicts++;
    };
    // Act
    await evaluateDatapoints([highCpu], [point(95, T0)], deps);
    // Assess: the rival fired; our conditional write lost, the re-read saw the point applied, so we fired nothing.
    expect(conflicts).toBe(1);
    expect(rivalBus.published.map((t) => t.status)).toEqual(['firing']);
    expect(events.published).toEqual([]);
  });

  it('keeps transitions in the outbox when the bus fails, and the next sweep publishes them', async () => {
    const { states, events, clock, deps } = setup();
    events.failNext = 1;
    await expect(evaluateDatapoints([highCpu], [point(95, T0)], deps)).rejects.toThrow(/unavailable/);
    expect((await states.list('HighCpu'))[0]?.outbox.map((t) => t.status)).toEqual(['firing']);
    clock.now = T0 + MINUTE;
    await sweepRules([highCpu], deps);
    expect(events.published.map((t) => t.status)).toEqual(['firing']);
    expect((await states.list('HighCpu'))[0]?.outbox).toEqual([]);
  });
});

describe('scheduled sweep', () => {
  it('fires a pending alert whose series went quiet once `for` has passed', async () => {
    const { events, clock, deps } = setup();
    const slow = rule({ kind: 'threshold', op: '>', value: 90, for: '2m' });
    await evaluateDatapoints([slow], [point(95, T0)], deps);
    clock.now = T0 + MINUTE;
    await sweepRules([slow], deps);
    expect(events.published).toEqual([]);
    clock.now = T0 + 2 * MINUTE;
    await sweepRules([slow], deps);
    expect(events.published.map((t) => t.status)).toEqual(['firing']);
  });

  it('resolves an alert whose data stopped, once the series is stale', async () => {
    const { events, clock, deps } = setup();
    await evaluateDatapoints([highCpu], [point(95, T0)], deps);
    clock.now = T0 + 5 * MINUTE;
    await sweepRules([highCpu], deps);
    expect(events.published.map((t) => t.status)).toEqual(['firing', 'resolved']);
  });

  it('fires a rule-wide absence alert when no matching series has sent data for `for`', async () => {
    const { states, events, clock, deps } = setup();
    const absent = rule({ kind: 'absence', for: '5m', matchers: 'job="api"' });
    await sweepRules([absent], deps);
    expect(events.published).toEqual([]);
    clock.now = T0 + 5 * MINUTE;
    await sweepRules([absent], deps);
    expect(events.published.map((t) => [t.status, t.labels.job])).toEqual([['firing', 'api']]);
    expect((await states.list('HighCpu')).map((s) => s.key)).toEqual([SELECTOR_KEY]);
  });
});

describe('retiring a deleted rule', () => {
  it('resolves what the rule had firing and forgets its states', async () => {
    const { states, events, clock, deps } = setup();
    await evaluateDatapoints([highCpu], [point(95, T0), point(10, T0, { host: 'web-2' })], deps);
    clock.now = T0 + MINUTE;
    const outcome = await retireRule('HighCpu', deps);
    expect(outcome.transitions.map((t) => [t.status, t.labels.host, t.endsAt])).toEqual([
      ['resolved', 'web-1', new Date(T0 + MINUTE).toISOString()],
    ]);
    expect(events.published.map((t) => t.status)).toEqual(['firing', 'resolved']);
    expect(await states.list('HighCpu')).toEqual([]);
  });
});
