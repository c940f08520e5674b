import { evaluationFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { DynamoPostedAlertStore } from '../shared/adapters/dynamo-correlation-store';
import { sweepRules } from '../shared/alerting/evaluation-service';
import { expirePostedAlerts } from '../shared/alerting/posted-alerts';
import { testTriggerRule } from '../shared/alerting/test-trigger';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';
import { logger } from '../shared/logger';

const client = documentClient();
const deps = evaluationFromEnv(client);
const posted = new DynamoPostedAlertStore(client, readEnv([ENV.alertingTable]).ALERTING_TABLE);

/**
 * The scheduled evaluation (EventBridge schedule): absence rules, pending alerts whose `for` has
 * passed, alerts whose data stopped, test-trigger alerts left firing, and outboxes a crash left.
 */
export const handler = eventHandler(async () => {
  const rules = [...(await deps.rules.rules()), testTriggerRule()];
  const outcome = await sweepRules(rules, deps);
  // Alertmanager's resolve_timeout for alerts posted to /api/v2/alerts and not re-sent.
  const expired = await expirePostedAlerts({ posted, events: deps.events, clock: deps.clock });
  logger.info('Scheduled evaluation done', {
    rules: rules.length,
    transitions: outcome.transitions.length,
    postedResolved: expired.resolved,
  });
  return { transitions: outcome.transitions.length, postedResolved: expired.resolved };
});
