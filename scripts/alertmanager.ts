/**
 * `npm run alertmanager -- check <alertmanager.yml>`
 * `npm run alertmanager -- apply --url <HttpApiUrl> [--token <t>] <alertmanager.yml>`
 *
 * Bring your own alertmanager.yml. `check` validates it without sending anything and prints what
 * each part becomes: the routing tree and inhibition rules, and one SNS subscription per email
 * address or webhook URL, filtered on the notification's `receiver`. Every unsupported key is named.
 *
 * `apply` puts the routing into a running stage at once (`PUT /api/alert-routing`). Subscriptions
 * are infrastructure: deploy with `-c alertmanagerConfig=<file>` to create them (and to make the
 * file's routing the stage's default).
 */
import { parseArgs } from 'node:util';
import { type AlertmanagerConfig, loadAlertmanagerFile } from '../lib/alertmanager-config';
import { apiClient } from './api-client';

const USAGE = [
  'usage: npm run alertmanager -- check <alertmanager.yml>',
  '       npm run alertmanager -- apply --url <HttpApiUrl> [--token <editor token>] <alertmanager.yml>',
].join('\n');

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.PULSEBOARD_URL },
      token: { type: 'string', default: process.env.PULSEBOARD_TOKEN },
    },
  });
  const [command, file] = positionals;
  if (positionals.length !== 2 || !file || (command !== 'check' && command !== 'apply')) {
    console.error(USAGE);
    return 2;
  }
  let loaded: AlertmanagerConfig;
  try {
    loaded = loadAlertmanagerFile(file);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  for (const warning of loaded.warnings) console.warn(`warning: ${warning.path}: ${warning.message}`);
  describe(file, loaded);
  if (command === 'check') return 0;

  if (!values.url) {
    console.error(USAGE);
    return 2;
  }
  try {
    await apiClient(values.url, values.token)('PUT', '/api/alert-routing', loaded.routing);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  console.log('routing applied: it takes effect for the next alert the correlator handles');
  if (loaded.subscriptions.length > 0) {
    console.log(`subscriptions are created by deploying with -c alertmanagerConfig=${file}`);
  }
  return 0;
}

function describe(file: string, loaded: AlertmanagerConfig): void {
  const inhibitRules = loaded.routing.inhibit_rules?.length ?? 0;
  console.log(`${file}: valid. Receivers: ${loaded.receivers.join(', ')}; ${inhibitRules} inhibit rule(s).`);
  const covered = new Set(loaded.subscriptions.flatMap((s) => s.receivers));
  for (const s of loaded.subscriptions) {
    console.log(
      `  ${s.protocol} ${s.endpoint} ← ${s.receivers.join(', ')}  filter ${JSON.stringify(s.filterPolicy)}` +
        (s.rawMessageDelivery ? ' (raw: the body is the Alertmanager webhook JSON)' : ''),
    );
  }
  for (const name of loaded.receivers.filter((r) => !covered.has(r))) {
    console.log(`  ${name}: no email or webhook: its notifications reach only unfiltered subscribers`);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`alertmanager failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
