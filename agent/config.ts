import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_INTERVAL_MS, DEFAULT_MAX_BUFFER_BYTES, defaultSpoolDir } from './agent';
import { METRIC_GROUPS, type MetricGroup } from './collectors';

export const USAGE = `usage: pulseboard-agent --url <HttpApiUrl> [options]

Pushes this host's CPU, memory, load, disk, network and uptime metrics to Pulseboard's HTTP API.
Batches are buffered on disk until the API accepts them, so an outage or a restart loses nothing.

options (environment variable in brackets; flags win):
  --url <url>            the stack's HttpApiUrl; metrics go to <url>/api/metrics  [PULSEBOARD_URL]
  --token <token>        sent as "Authorization: Bearer <token>"; prefer the variable,
                         flags are visible to other users in ps                    [PULSEBOARD_TOKEN]
  --interval <duration>  collect every 2s, 10s, 1m, …; 1s to 1h (default 10s)     [PULSEBOARD_INTERVAL]
  --label <key=value>    add a label to every point; repeatable; host=<name>
                         replaces the host label (default: this host's name)       [PULSEBOARD_LABELS=k=v,k=v]
  --metrics <list>       any of cpu,memory,load,disk,network,uptime (default all)  [PULSEBOARD_METRICS]
  --disk-path <path>     a mount point to report disk usage for; repeatable
                         (default /)                                               [PULSEBOARD_DISK_PATHS=/,/data]
  --buffer-dir <dir>     the disk buffer (default ~/.pulseboard-agent/spool)       [PULSEBOARD_BUFFER_DIR]
  --max-buffer-mb <n>    drop the oldest buffered batches beyond this
                         (default 100)                                             [PULSEBOARD_MAX_BUFFER_MB]
  --once                 collect one batch, send it with anything still buffered, exit
                         (exit code 1 if something stayed buffered); for cron and testing
  -h, --help             show this help

examples:
  PULSEBOARD_TOKEN=… pulseboard-agent --url https://abc123.execute-api.eu-west-1.amazonaws.com
  pulseboard-agent --url http://127.0.0.1:3000 --interval 2s --label env=dev --disk-path / --disk-path /data`;

/** A bad flag or variable: the message is one line, ready to print. */
export class UsageError extends Error {
  readonly code = 'AGENT_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What the command line asks for. */
export type AgentCommand =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly once: boolean;
      readonly url: string;
      readonly token?: string;
      readonly intervalMs: number;
      readonly labels: Readonly<Record<string, string>>;
      readonly metrics: readonly MetricGroup[];
      readonly diskPaths: readonly string[];
      readonly spoolDir: string;
      readonly maxBufferBytes: number;
    };

const LABEL_KEY = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;
const MAX_LABEL_VALUE_LENGTH = 256;
/** The ingest API allows 16 labels; the agent sets `host` and one of `mount` / `interface`. */
const MAX_USER_LABELS = 14;
const RESERVED_LABELS = new Set(['mount', 'interface']);

/**
 * Parses the command line and the `PULSEBOARD_*` variables into agent options, or throws a
 * `UsageError` with a one-line message.
 */
export function parseAgentArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  homeDir: string = os.homedir(),
): AgentCommand {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags(argv);
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
  if (values.help) return { kind: 'help' };

  const fromEnv = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);

  const url = values.url ?? fromEnv('PULSEBOARD_URL');
  if (!url) throw new UsageError("--url (or PULSEBOARD_URL) is required: the stack's HttpApiUrl");

  const token = values.token ?? fromEnv('PULSEBOARD_TOKEN');
  const intervalText = values.interval ?? fromEnv('PULSEBOARD_INTERVAL');
  const labelTexts = values.label ?? list(fromEnv('PULSEBOARD_LABELS')) ?? [];
  const metricsText = values.metrics ?? fromEnv('PULSEBOARD_METRICS');
  const diskPaths = values['disk-path'] ?? list(fromEnv('PULSEBOARD_DISK_PATHS')) ?? ['/'];
  const bufferDir = values['buffer-dir'] ?? fromEnv('PULSEBOARD_BUFFER_DIR');
  const maxBufferText = values['max-buffer-mb'] ?? fromEnv('PULSEBOARD_MAX_BUFFER_MB');

  if (diskPaths.some((diskPath) => !diskPath.trim())) throw new UsageError('--disk-path must not be empty');
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token))
    throw new UsageError('--token must be printable ASCII without spaces');

  return {
    kind: 'run',
    once: values.once ?? false,
    url: parseUrl(url),
    ...(token ? { token } : {}),
    intervalMs: intervalText === undefined ? DEFAULT_INTERVAL_MS : parseInterval(intervalText),
    labels: parseLabels(labelTexts),
    metrics: metricsText === undefined ? METRIC_GROUPS : parseMetricGroups(metricsText),
    diskPaths: [...new Set(diskPaths)],
    spoolDir: bufferDir === undefined ? defaultSpoolDir() : expandHome(bufferDir, homeDir),
    maxBufferBytes: maxBufferText === undefined ? DEFAULT_MAX_BUFFER_BYTES : parseMegabytes(maxBufferText),
  };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      interval: { type: 'string' },
      label: { type: 'string', multiple: true },
      metrics: { type: 'string' },
      'disk-path': { type: 'string', multiple: true },
      'buffer-dir': { type: 'string' },
      'max-buffer-mb': { type: 'string' },
      once: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function describeParseError(error: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = quoted.replace(/ <value>$/, '');
      return error.message.includes('does not take')
        ? `option ${option} takes no value`
        : `option ${option} needs a value`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted}: every option is a --flag`;
    default:
      return error.message.split('\n')[0] ?? 'invalid arguments';
  }
}

/** An http(s) base URL without trailing slashes; a pasted `…/api/metrics` is trimmed too. */
export function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must be an http(s) URL, got "${text}"`);
  if (url.search || url.hash) throw new UsageError('--url must not have a query string or fragment');
  return url.href.replace(/\/+$/, '').replace(/\/api\/metrics$/, '');
}

/** `500ms`, `2s`, `1.5m`, `1h`, or a bare number of seconds, within 1 s … 1 h. */
export function parseInterval(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match?.[1]) throw new UsageError(`--interval must look like 2s, 10s or 1m, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < 1000 || ms > 3_600_000)
    throw new UsageError(`--interval must be between 1s and 1h, got "${text}"`);
  return ms;
}

/** `key=value` pairs, checked against the ingest API's label rules. */
export function parseLabels(texts: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const text of texts) {
    const equals = text.indexOf('=');
    if (equals <= 0) throw new UsageError(`--label must be key=value, got "${text}"`);
    const key = text.slice(0, equals).trim();
    const value = text.slice(equals + 1).trim();
    if (!LABEL_KEY.test(key))
      throw new UsageError(`--label key "${key}" must match [a-zA-Z_][a-zA-Z0-9_]* (at most 100 characters)`);
    if (RESERVED_LABELS.has(key)) throw new UsageError(`--label key "${key}" is set by the agent itself`);
    if (key.startsWith('__'))
      throw new UsageError(`--label key "${key}": keys starting with __ are reserved`);
    if (!value) throw new UsageError(`--label ${key} needs a non-empty value`);
    if (value.length > MAX_LABEL_VALUE_LENGTH)
      throw new UsageError(`--label ${key} is longer than ${MAX_LABEL_VALUE_LENGTH} characters`);
    if (key in labels) throw new UsageError(`--label ${key} is given twice`);
    labels[key] = value;
  }
  if (Object.keys(labels).filter((name) => name !== 'host').length > MAX_USER_LABELS)
    throw new UsageError(`at most ${MAX_USER_LABELS} labels besides host (the API allows 16 per point)`);
  return labels;
}

/** A comma-separated selection of metric groups, in the agent's fixed order. */
export function parseMetricGroups(text: string): MetricGroup[] {
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !(METRIC_GROUPS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new UsageError(`--metrics: unknown ${unknown.join(', ')}; choose from ${METRIC_GROUPS.join(',')}`);
  if (names.length === 0) throw new UsageError(`--metrics needs at least one of ${METRIC_GROUPS.join(',')}`);
  return METRIC_GROUPS.filter((group) => names.includes(group));
}

function parseMegabytes(text: string): number {
  const megabytes = Number(text.trim());
  if (!text.trim() || !Number.isFinite(megabytes) || megabytes < 1)
    throw new UsageError(`--max-buffer-mb must be a number of megabytes, at least 1, got "${text}"`);
  return Math.round(megabytes * 1024 * 1024);
}

function expandHome(dir: string, homeDir: string): string {
  const expanded = dir === '~' ? homeDir : dir.startsWith('~/') ? path.join(homeDir, dir.slice(2)) : dir;
  return path.resolve(expanded);
}
