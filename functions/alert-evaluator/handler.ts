import { evaluationFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { sweepRules } from '../shared/alerting/evaluation-service';
import { testTriggerRule } from '../shared/alerting/test-trigger';
import { eventHandler } from '../shared/handler-kit';
import { logger } from '../shared/logger';

const deps = evaluationFromEnv(documentClient());

/**
 * The scheduled evaluation (EventBridge schedule): absence rules, pending alerts whose `for` has
 * passed, alerts whose data stopped, test-trigger alerts left firing, and outboxes a crash left.
 */
export const handler = eventHandler(async () => {
  const rules = [...(await deps.rules.rules()), testTriggerRule()];
  const outcome = await sweepRules(rules, deps);
  logger.info('Scheduled evaluation done', { rules: rules.length, transitions: outcome.transitions.length });
  return { transitions: outcome.transitions.length };
});
