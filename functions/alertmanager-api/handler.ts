import { evaluationFromEnv, routingFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { DynamoSilenceStore } from '../shared/adapters/dynamo-alerting-store';
import { DynamoAlertsView, DynamoPostedAlertStore } from '../shared/adapters/dynamo-correlation-store';
import { receivePostedAlerts } from '../shared/alerting/posted-alerts';
import { parsePostableAlerts } from '../shared/domain/alerting/postable';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { listAlertGroupsV2, listAlertsV2 } from './am-alerts';
import { alertmanagerConfigText, receiverNames } from './am-status';

const env = readEnv([ENV.alertingTable]);
const client = documentClient();
const evaluation = evaluationFromEnv(client);
const posted = new DynamoPostedAlertStore(client, env.ALERTING_TABLE);
const routing = routingFromEnv(client);
const startedAt = new Date().toISOString();
const queryDeps = {
  alerts: new DynamoAlertsView(client, env.ALERTING_TABLE),
  silences: new DynamoSilenceStore(client, env.ALERTING_TABLE),
  routing,
  clock: Date.now,
};

const text = (body: string) => ({
  statusCode: 200,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body,
});

/**
 * Alertmanager's API v2, so Prometheus and amtool can talk to Pulseboard: `POST /api/v2/alerts`
 * (alerts join the same pipeline as Pulseboard's rules), `GET /api/v2/alerts` and
 * `/api/v2/alerts/groups` (every firing alert, whatever sent it), `GET /api/v2/status` and
 * `/api/v2/receivers` (from the routing in force), and the
 * `/-/healthy` and `/-/ready` probes. Silences v2 live with the silences function.
 */
export const handler = httpRoute(async (event) => {
  switch (event.routeKey) {
    case 'POST /api/v2/alerts': {
      const alerts = parsePostableAlerts(parseJsonBody(event), Date.now());
      await receivePostedAlerts(alerts, { posted, events: evaluation.events, clock: Date.now });
      return { statusCode: 200 };
    }
    case 'GET /api/v2/alerts':
      return json(200, await listAlertsV2(event.rawQueryString, queryDeps));
    case 'GET /api/v2/alerts/groups':
      return json(200, await listAlertGroupsV2(event.rawQueryString, queryDeps));
    case 'GET /api/v2/status': {
      const current = await routing.current();
      return json(200, {
        cluster: { status: 'disabled', peers: [] },
        versionInfo: {
          version: 'pulseboard',
          revision: '',
          branch: '',
          buildUser: '',
          buildDate: '',
          goVersion: '',
        },
        config: { original: alertmanagerConfigText(current) },
        uptime: startedAt,
      });
    }
    case 'GET /api/v2/receivers':
      return json(
        200,
        receiverNames((await routing.current()).tree).map((name) => ({ name })),
      );
    case 'GET /-/ready':
      return text('OK');
    default:
      return text('OK');
  }
});
