/**
 * `npm start`: synthesizes the CDK app and runs it on this machine.
 *   --port <n>     one port for the dashboard, HTTP API and WebSocket API at /ws (default 3000)
 *   --data <dir>   persist DynamoDB and the generated secrets in <dir> (default: in memory)
 *   --engines <url> use DynamoDB, SNS and SQS at <url> (e.g. LocalStack) instead of DynamoDB Local and
 *                  fauxqs; Secrets Manager stays local
 *   --no-agent     do not push this machine's metrics
 *   --no-notifications  do not print SNS notifications
 *   --verbose      show DEBUG lines from the functions
 *   --alertmanager-config <file>  synthesize with this alertmanager.yml (its routing becomes the default; its webhooks are called)
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAlertmanagerFile } from '../lib/alertmanager-config';
import { type LocalRuntime, startLocalRuntime } from './runtime';
import { PROJECT_ROOT, synthesize } from './synth';

const USAGE =
  'usage: npm start -- [--port <n>] [--data <dir>] [--engines <url>] [--no-agent] [--no-notifications] [--verbose] [--alertmanager-config <file>]';

function parseOptions() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3000' },
      data: { type: 'string' },
      engines: { type: 'string' },
      'no-agent': { type: 'boolean', default: false },
      'no-notifications': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'alertmanager-config': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, got ${values.port}`);
  return { ...values, port };
}

/**
 * One compact line per function log line: the function, then level and message of Powertools'
 * JSON (console lines arrive as `time\trequestId\tLEVEL\tmessage`). Lambda's per-invocation
 * REPORT lines and DEBUG entries show only with --verbose.
 */
function functionLogPrinter(verbose: boolean) {
  return (functionName: string, line: string) => {
    if (line.startsWith('REPORT ') && !verbose) return;
    const text = line.split('\t').at(-1) ?? line;
    let entry: { level?: string; message?: string; error?: { message?: string } } | undefined;
    try {
      entry = JSON.parse(text);
    } catch {
      // Not structured: print it as it is.
    }
    if (!entry?.level) return console.log(`  ${functionName} ${text}`);
    if (entry.level === 'DEBUG' && !verbose) return;
    const detail = entry.error?.message ? ` (${entry.error.message})` : '';
    console.log(`  ${functionName} ${entry.level} ${entry.message ?? ''}${detail}`);
  };
}

async function main() {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }

  const started = performance.now();
  console.log('Pulseboard local: building the dashboard and synthesizing the stack…');
  const assemblyDir = path.join(PROJECT_ROOT, '.pulseboard', 'cdk.out');
  mkdirSync(assemblyDir, { recursive: true });
  const alertmanagerConfig = options['alertmanager-config'];
  if (alertmanagerConfig) {
    // Read here too, so a refusal reads as the file's problems, not as a failed synth.
    try {
      const loaded = loadAlertmanagerFile(path.resolve(alertmanagerConfig));
      for (const w of loaded.warnings) console.log(`  ${alertmanagerConfig}: ${w.path}: ${w.message}`);
    } catch (error) {
      console.error((error as Error).message);
      process.exit(2);
    }
  }
  await synthesize({
    outDir: assemblyDir,
    context: alertmanagerConfig ? { alertmanagerConfig: path.resolve(alertmanagerConfig) } : {},
  });
  const synthesized = performance.now();

  const runtime = await startLocalRuntime({
    assemblyDir,
    port: options.port,
    dataDir: options.data,
    engines: options.engines ? { dynamodb: options.engines, messaging: options.engines } : undefined,
    agent: !options['no-agent'],
    notificationConsole: !options['no-notifications'],
    outputsFile: path.join(PROJECT_ROOT, 'cdk-outputs.local.json'),
    log: (line) => console.log(`  ${line}`),
    functionLog: functionLogPrinter(options.verbose),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await runtime.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    [
      '',
      `Pulseboard is running (${runtime.stackName}), ready in ${seconds(performance.now() - started)} s ` +
        `(synth ${seconds(synthesized - started)} s, engines ${seconds(performance.now() - synthesized)} s)`,
      `  Dashboard:      ${runtime.urls.DashboardUrl}`,
      `  HTTP API:       ${runtime.urls.HttpApiUrl}`,
      `  WebSocket API:  ${runtime.urls.WebSocketUrl}`,
      ...adminLines(runtime.admin),
      '',
      `Outputs written to cdk-outputs.local.json. ${options['no-agent'] ? 'Agent off.' : 'Agent: pushing this machine’s metrics every 2 s.'} Ctrl-C stops everything.`,
      '',
    ].join('\n'),
  );
}

/** How to sign in: a generated password is printed this once; a chosen or kept one never is. */
function adminLines(admin: LocalRuntime['admin']): string[] {
  if (!admin) return [];
  if (!admin.created)
    return [`  Sign in:        ${admin.username} (kept from the data directory; password unchanged)`];
  if (!admin.generated)
    return [`  Sign in:        ${admin.username} / the password in PULSEBOARD_ADMIN_PASSWORD`];
  return [
    `  Sign in:        ${admin.username} / ${admin.password}`,
    '                  (generated and shown once; set PULSEBOARD_ADMIN_PASSWORD to choose it)',
  ];
}

main().catch((error: unknown) => {
  // One line, no stack trace: the errors that reach here explain themselves (port in use, no Java).
  console.error(`Pulseboard could not start: ${(error as Error).message}`);
  process.exit(1);
});
