import { readFileSync } from 'node:fs';
import { parseRouting } from '../functions/shared/alerting/routing';
import type { Route } from '../functions/shared/domain/alerting/dispatch/route';
import type { RoutingConfig } from '../functions/shared/domain/alerting/stores';
import { type Issue, ValidationError } from '../functions/shared/errors';
import { parseYaml } from './yaml';

/**
 * Bring your own alertmanager.yml: the routing subset becomes the stage's routing, and each
 * receiver's email and webhook configs become subscriptions to the notifications topic, filtered
 * on the `receiver` message attribute every notification carries.
 *
 * What Alertmanager would do that Pulseboard cannot is an error naming the key. Settings that SNS
 * makes unnecessary (the SMTP transport) are accepted and reported as warnings, never ignored
 * silently.
 */
export interface AlertmanagerConfig {
  /** `route`, `inhibit_rules` and the time intervals: what `PUT /api/alert-routing` takes. */
  readonly routing: RoutingConfig;
  /** Every receiver the file defines, in file order. */
  readonly receivers: readonly string[];
  readonly subscriptions: readonly ReceiverSubscription[];
  /** Accepted settings that have no effect, by path and why. */
  readonly warnings: readonly Issue[];
}

/** `http` only for a loopback address, which the local runtime delivers to. */
export type SubscriptionKind = 'email' | 'https' | 'http';

/** One topic subscription; an endpoint several receivers name is subscribed once, for all of them. */
export interface ReceiverSubscription {
  readonly protocol: SubscriptionKind;
  readonly endpoint: string;
  readonly receivers: readonly string[];
  /**
   * The SNS filter policy: the receivers, and `status: firing` for a receiver with
   * `send_resolved: false` (Alertmanager's default for email, not for webhooks).
   */
  readonly filterPolicy: Record<string, unknown>;
  /** Webhooks get the Alertmanager payload as the request body, as Alertmanager posts it. */
  readonly rawMessageDelivery: boolean;
}

const ROUTING_KEYS = ['route', 'inhibit_rules', 'time_intervals', 'mute_time_intervals'];
/** Alertmanager's fixed resolve timeout for alerts posted without endsAt; Pulseboard's is the same. */
const RESOLVE_TIMEOUT = '5m';
const RECEIVER_KINDS = [
  'discord_configs',
  'msteams_configs',
  'opsgenie_configs',
  'pagerduty_configs',
  'pushover_configs',
  'slack_configs',
  'sns_configs',
  'telegram_configs',
  'victorops_configs',
  'webex_configs',
  'wechat_configs',
];
/** The SMTP transport: SNS sends the email, from its own address. */
const SMTP_KEYS = [
  'from',
  'smarthost',
  'hello',
  'auth_username',
  'auth_password',
  'auth_password_file',
  'auth_secret',
  'auth_identity',
  'require_tls',
  'tls_config',
];

/** Parses and validates alertmanager.yml; throws one {@link ValidationError} listing every problem. */
export function parseAlertmanagerConfig(text: string): AlertmanagerConfig {
  const config = parseYaml(text, 'alertmanager.yml');
  const issues: Issue[] = [];
  const warnings: Issue[] = [];
  if (!isObject(config)) {
    throw new ValidationError('alertmanager.yml must be a mapping with route and receivers', [
      { path: '', message: 'expected a mapping' },
    ]);
  }
  for (const key of Object.keys(config)) {
    if (ROUTING_KEYS.includes(key) || key === 'receivers') continue;
    if (key === 'global') checkGlobal(config.global, issues, warnings);
    else if (key === 'templates') {
      if (Array.isArray(config.templates) && config.templates.length === 0) continue;
      issues.push({
        path: 'templates',
        message: "not supported: notifications carry Alertmanager's webhook JSON, not templated text",
      });
    } else issues.push({ path: key, message: 'not supported by Pulseboard' });
  }
  const routingInput = Object.fromEntries(ROUTING_KEYS.filter((k) => k in config).map((k) => [k, config[k]]));
  let tree: Route | undefined;
  try {
    tree = parseRouting(routingInput).tree;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    issues.push(...(error.issues.length > 0 ? error.issues : [{ path: 'route', message: error.message }]));
  }
  const receivers = parseReceivers(config.receivers, issues, warnings);
  if (tree) {
    const defined = new Set(receivers.map((r) => r.name));
    for (const [name, at] of routeReceivers(tree)) {
      if (defined.has(name)) continue;
      issues.push({ path: at, message: `receiver ${quote(name)} is not defined in receivers` });
      defined.add(name); // once per name: children inherit their parent's receiver
    }
  }
  if (issues.length > 0) {
    throw ValidationError.listing('alertmanager.yml', issues);
  }
  return {
    routing: routingInput as unknown as RoutingConfig,
    receivers: receivers.map((r) => r.name),
    subscriptions: subscriptionsFor(receivers),
    warnings,
  };
}

function checkGlobal(global: unknown, issues: Issue[], warnings: Issue[]): void {
  if (global === undefined || global === null) return;
  if (!isObject(global)) {
    issues.push({ path: 'global', message: 'expected a mapping' });
    return;
  }
  for (const [key, value] of Object.entries(global)) {
    const path = `global.${key}`;
    if (key === 'resolve_timeout') {
      if (value !== RESOLVE_TIMEOUT)
        issues.push({ path, message: `Pulseboard's resolve_timeout is fixed at ${RESOLVE_TIMEOUT}` });
    } else if (key.startsWith('smtp_')) {
      warnings.push({ path, message: 'not used: SNS delivers email' });
    } else {
      warnings.push({
        path,
        message: 'not used: it only configures receiver kinds Pulseboard does not have',
      });
    }
  }
}

interface ParsedReceiver {
  readonly name: string;
  readonly targets: readonly { protocol: SubscriptionKind; endpoint: string; sendResolved: boolean }[];
}

function parseReceivers(value: unknown, issues: Issue[], warnings: Issue[]): ParsedReceiver[] {
  if (!Array.isArray(value)) {
    issues.push({ path: 'receivers', message: 'expected a list of receivers' });
    return [];
  }
  const out: ParsedReceiver[] = [];
  const seen = new Set<string>();
  value.forEach((raw: unknown, i) => {
    const path = `receivers[${i}]`;
    if (!isObject(raw) || typeof raw.name !== 'string' || raw.name === '') {
      issues.push({ path: `${path}.name`, message: 'a receiver needs a name' });
      return;
    }
    const name = raw.name;
    if (seen.has(name))
      issues.push({ path: `${path}.name`, message: `receiver ${quote(name)} is defined twice` });
    seen.add(name);
    const targets: ParsedReceiver['targets'][number][] = [];
    for (const [key, configs] of Object.entries(raw)) {
      const at = `${path}.${key}`;
      if (key === 'name') continue;
      if (key !== 'email_configs' && key !== 'webhook_configs') {
        issues.push({
          path: at,
          message: RECEIVER_KINDS.includes(key)
            ? `${key.replace('_configs', '')} receivers are not supported: use email or a webhook (an HTTPS subscription)`
            : 'unknown receiver setting',
        });
        continue;
      }
      if (!Array.isArray(configs)) {
        issues.push({ path: at, message: 'expected a list' });
        continue;
      }
      configs.forEach((entry: unknown, j) => {
        const entryPath = `${at}[${j}]`;
        if (!isObject(entry)) issues.push({ path: entryPath, message: 'expected a mapping' });
        else if (key === 'email_configs') targets.push(...emailTargets(entry, entryPath, issues, warnings));
        else targets.push(...webhookTargets(entry, entryPath, issues, warnings));
      });
    }
    out.push({ name, targets });
  });
  return out;
}

function emailTargets(entry: Record<string, unknown>, path: string, issues: Issue[], warnings: Issue[]) {
  const sendResolved = readSendResolved(entry, path, false, issues);
  for (const key of Object.keys(entry)) {
    if (key === 'to' || key === 'send_resolved') continue;
    if (SMTP_KEYS.includes(key))
      warnings.push({
        path: `${path}.${key}`,
        message: 'not used: SNS delivers email, from its own address',
      });
    else
      issues.push({
        path: `${path}.${key}`,
        message:
          key === 'html' || key === 'text' || key === 'headers'
            ? 'not supported: the email is the SNS notification (subject line and webhook JSON)'
            : 'unknown email setting',
      });
  }
  if (typeof entry.to !== 'string' || entry.to.trim() === '') {
    issues.push({ path: `${path}.to`, message: 'an email receiver needs to: <address>' });
    return [];
  }
  // Alertmanager's `to` is a comma-separated address list.
  const addresses = entry.to.split(',').map((address) => address.trim());
  for (const address of addresses) {
    if (!/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(address))
      issues.push({
        path: `${path}.to`,
        message: `${quote(address)} is not an email address SNS can deliver to`,
      });
  }
  return addresses.map((endpoint) => ({ protocol: 'email' as const, endpoint, sendResolved }));
}

/** Hosts only the machine itself reaches: the local runtime delivers to them, nothing else can. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function webhookTargets(entry: Record<string, unknown>, path: string, issues: Issue[], warnings: Issue[]) {
  const sendResolved = readSendResolved(entry, path, true, issues);
  for (const key of Object.keys(entry)) {
    if (key === 'url' || key === 'send_resolved') continue;
    if (key === 'max_alerts' && entry.max_alerts === 0) continue;
    issues.push({
      path: `${path}.${key}`,
      message:
        key === 'http_config'
          ? 'not supported: SNS cannot send custom auth headers or TLS settings; put basic auth credentials in the https URL'
          : key === 'max_alerts'
            ? 'not supported: Pulseboard truncates at its own notification size limit'
            : key === 'url_file'
              ? 'not supported: give the url itself (it goes into the stack as an SNS subscription)'
              : 'unknown webhook setting',
    });
  }
  let url: URL | undefined;
  try {
    url = typeof entry.url === 'string' ? new URL(entry.url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) {
    issues.push({ path: `${path}.url`, message: 'a webhook receiver needs url: https://…' });
    return [];
  }
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    // A webhook receiver on the developer's machine, for `npm start`: SNS in AWS cannot reach it.
    warnings.push({
      path: `${path}.url`,
      message: 'a loopback address: only the local runtime (npm start) delivers to it; SNS in AWS cannot',
    });
    return [{ protocol: 'http' as const, endpoint: String(entry.url), sendResolved }];
  }
  if (url.protocol !== 'https:') {
    issues.push({
      path: `${path}.url`,
      message:
        'webhooks must use https:// (http:// only on a loopback address): notifications leave the account',
    });
    return [];
  }
  return [{ protocol: 'https' as const, endpoint: String(entry.url), sendResolved }];
}

function readSendResolved(entry: Record<string, unknown>, path: string, fallback: boolean, issues: Issue[]) {
  if (entry.send_resolved === undefined) return fallback;
  if (typeof entry.send_resolved === 'boolean') return entry.send_resolved;
  issues.push({ path: `${path}.send_resolved`, message: 'expected true or false' });
  return fallback;
}

/** One subscription per endpoint, its filter policy allowing exactly what each receiver would send. */
function subscriptionsFor(receivers: readonly ParsedReceiver[]): ReceiverSubscription[] {
  const byEndpoint = new Map<
    string,
    { protocol: SubscriptionKind; endpoint: string; all: string[]; firing: string[] }
  >();
  for (const receiver of receivers) {
    for (const target of receiver.targets) {
      const key = `${target.protocol} ${target.endpoint}`;
      const entry = byEndpoint.get(key) ?? { ...target, all: [], firing: [] };
      const list = target.sendResolved ? entry.all : entry.firing;
      if (!list.includes(receiver.name)) list.push(receiver.name);
      byEndpoint.set(key, entry);
    }
  }
  return [...byEndpoint.values()].map(({ protocol, endpoint, all, firing }) => {
    const everything = all.length > 0 ? { receiver: all } : undefined;
    const firingOnly = firing.length > 0 ? { receiver: firing, status: ['firing'] } : undefined;
    const filterPolicy =
      everything && firingOnly ? { $or: [everything, firingOnly] } : (everything ?? firingOnly);
    return {
      protocol,
      endpoint,
      receivers: [...all, ...firing],
      filterPolicy: filterPolicy as Record<string, unknown>,
      rawMessageDelivery: protocol !== 'email',
    };
  });
}

/** Every receiver the tree names, with the route it is named at. */
function routeReceivers(route: Route, path = 'route'): [string, string][] {
  return [
    [route.receiver, `${path}.receiver`],
    ...route.routes.flatMap((child, i) => routeReceivers(child, `${path}.routes[${i}]`)),
  ];
}

function quote(text: string): string {
  return `"${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads and parses an alertmanager.yml from disk, for the CLIs and the CDK app. A refusal throws
 * an Error whose message names the file and lists every problem, one per line.
 */
export function loadAlertmanagerFile(file: string): AlertmanagerConfig {
  try {
    return parseAlertmanagerConfig(readFileSync(file, 'utf8'));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const lines =
      error.issues.length > 0 ? error.issues.map((i) => `${i.path}: ${i.message}`) : [error.message];
    throw new Error(`${file} cannot be loaded:\n${lines.map((line) => `  ${line}`).join('\n')}`);
  }
}
