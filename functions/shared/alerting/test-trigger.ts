import { type AlertRule, parseRule, type Severity } from '../domain/alerting/rules';

/** The built-in rule behind `POST /api/alerts/test-trigger`; it never appears in the rules API. */
export const TEST_TRIGGER_RULE = 'PulseboardTestTrigger';
/** The synthetic series the test trigger writes one datapoint to. */
export const TEST_TRIGGER_METRIC = 'pulseboard_test_trigger';

const parsed = new Map<Severity, AlertRule>();

/**
 * A threshold rule firing on any positive value of the synthetic series. The scheduled evaluation
 * includes it, so a test alert nobody resolves goes stale and resolves after 5 minutes, as any
 * series whose data stopped.
 */
export function testTriggerRule(severity: Severity = 'warning'): AlertRule {
  let rule = parsed.get(severity);
  if (!rule) {
    rule = parseRule({
      name: TEST_TRIGGER_RULE,
      kind: 'threshold',
      metric: TEST_TRIGGER_METRIC,
      op: '>',
      value: 0,
      severity,
      labels: { test: 'true' },
      annotations: {
        summary: 'Test alert {{ $labels.trigger_id }} from POST /api/alerts/test-trigger',
        description:
          'A synthetic alert that exercises evaluation, EventBridge, correlation, SNS and WebSocket.',
      },
    });
    parsed.set(severity, rule);
  }
  return rule;
}
