import { describe, expect, it } from 'vitest';
import { parseAlertEvent } from '../../../functions/shared/domain/alerting/dispatch/alert';
import { evaluateOnPoints } from '../../../functions/shared/domain/alerting/evaluation';
import { fingerprint } from '../../../functions/shared/domain/alerting/fingerprint';
import { parseRule } from '../../../functions/shared/domain/alerting/rules';

/**
 * The evaluator's transitions travel as EventBridge `detail` to the correlator, whose dispatcher
 * parses them: this pins the two ends of that wire to one shape.
 */
describe('evaluator → dispatcher event contract', () => {
  const rule = parseRule({
    name: 'HighCpu',
    kind: 'threshold',
    metric: 'cpu_usage',
    severity: 'critical',
    op: '>',
    value: 90,
  });
  const labels = { host: 'web-1' };
  const T0 = Date.parse('2026-11-24T06:00:00Z');

  it('lets the dispatcher read a firing and a resolved transition unchanged', () => {
    const fired = evaluateOnPoints(rule, labels, undefined, [{ timestamp: T0, value: 95 }], T0);
    const resolved = evaluateOnPoints(
      rule,
      labels,
      fired.state,
      [{ timestamp: T0 + 60_000, value: 10 }],
      T0 + 60_000,
    );
    const [firing] = fired.transitions;
    const [ended] = resolved.transitions;

    const firingEvent = parseAlertEvent(JSON.parse(JSON.stringify(firing)));
    const resolvedEvent = parseAlertEvent(JSON.parse(JSON.stringify(ended)));

    expect(firingEvent).toMatchObject({ status: 'firing', startsAt: T0, value: 95 });
    expect(resolvedEvent).toMatchObject({ status: 'resolved', endsAt: T0 + 60_000 });
    expect(firingEvent.fingerprint).toBe(resolvedEvent.fingerprint);
    expect(firingEvent.fingerprint).toBe(fingerprint(firingEvent.labels));
  });
});
