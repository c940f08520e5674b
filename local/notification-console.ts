/**
 * Shows the template's SNS notifications in the local runtime's console, so a user sees locally
 * what subscribers (e-mail, chat, pager) would receive in AWS.
 *
 * A local-only queue is subscribed to every AWS::SNS::Topic of the template (protocol sqs, not raw,
 * so the SNS envelope keeps its MessageId and MessageAttributes); a poller prints one line per
 * notification through the runtime's log and deletes it. FIFO topics get a FIFO queue, as SNS
 * requires. Everything goes through the SNS and SQS APIs, so fauxqs and LocalStack behave alike.
 */
import { type SnsEnvelope, startTopicTap, type TopicTap } from './topic-tap';
import type { CfnTemplate, Resolver } from './types';

export const NOTIFICATION_QUEUE_NAME = 'pulseboard-local-notifications';
const MAX_TEXT = 200;

export interface StartNotificationConsoleOptions {
  readonly template: CfnTemplate;
  /** The runtime's final resolver, so topic ARNs are the ones the engine issued. */
  readonly resolver: Resolver;
  /** The SNS and SQS endpoint, e.g. `LocalSns.endpoint`. */
  readonly endpoint: string;
  /** Receives one line per notification, and the console's own messages. */
  readonly log: (line: string) => void;
  readonly region?: string;
  /** Default `pulseboard-local-notifications` (`.fifo` is appended for FIFO topics). */
  readonly queueName?: string;
  /** Long-poll wait of each ReceiveMessage, 1–20 s. Default 1, so `stop()` never waits long. */
  readonly waitTimeSeconds?: number;
  /** Pause after a failed ReceiveMessage. Default 1000 ms. */
  readonly errorBackoffMs?: number;
}

export interface NotificationConsole {
  /** The topics being shown, by ARN. */
  readonly topicArns: readonly string[];
  /** The local queues subscribed to them (none when the template has no topics). */
  readonly queueUrls: readonly string[];
  /** Stops polling, then unsubscribes and deletes the local queues (best effort). */
  stop(): Promise<void>;
}

/** Alertmanager's webhook payload (version 4), as Pulseboard publishes it. */
interface AlertmanagerPayload {
  readonly status: string;
  readonly alerts: readonly { readonly status?: string }[];
  readonly groupKey?: string;
  readonly receiver?: string;
  readonly groupLabels?: Record<string, unknown>;
  readonly commonLabels?: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asEnvelope(v: unknown): SnsEnvelope | undefined {
  return isObject(v) && v.Type === 'Notification' && typeof v.Message === 'string'
    ? (v as unknown as SnsEnvelope)
    : undefined;
}

function asAlertmanager(v: unknown): AlertmanagerPayload | undefined {
  return isObject(v) && typeof v.status === 'string' && Array.isArray(v.alerts)
    ? (v as unknown as AlertmanagerPayload)
    : undefined;
}

/** One line of text: control characters and runs of whitespace become one space. */
function oneLine(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function clip(text: string): string {
  const line = oneLine(text);
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT)}…` : line;
}

/** `{alertname="HighCPU"}`, Alertmanager's rendering of a label set. */
function labelSet(labels: Record<string, unknown> | undefined): string {
  const pairs = Object.entries(labels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`);
  return `{${pairs.join(',')}}`;
}

/**
 * The console line for one message of the notification queue (its SQS body): for Alertmanager's
 * webhook payload `notification [FIRING:2] {}:{alertname="HighCPU"} → receiver default
 * (severity=critical) sns:<MessageId>` (`[RESOLVED]` once resolved), for any other message its
 * subject and first 200 characters on one line.
 */
export function formatNotificationLine(sqsBody: string): string {
  const envelope = asEnvelope(parseJson(sqsBody));
  const message = envelope ? envelope.Message : sqsBody;
  const attribute = (name: string): string | undefined => {
    const value = envelope?.MessageAttributes?.[name]?.Value;
    return value ? oneLine(value) : undefined;
  };
  const source = envelope?.MessageId ? ` sns:${envelope.MessageId}` : '';

  const alert = asAlertmanager(parseJson(message));
  if (alert) {
    const status = oneLine(alert.status || attribute('status') || 'unknown').toUpperCase();
    const firing = alert.alerts.filter((a) => isObject(a) && a.status === 'firing').length;
    const title = status === 'FIRING' ? `[FIRING:${firing}]` : `[${status}]`;
    const group = clip(typeof alert.groupKey === 'string' ? alert.groupKey : labelSet(alert.groupLabels));
    const receiver = oneLine(String(alert.receiver ?? attribute('receiver') ?? 'unknown'));
    const commonSeverity = alert.commonLabels?.severity;
    const severity =
      attribute('severity') ?? (typeof commonSeverity === 'string' ? oneLine(commonSeverity) : undefined);
    return `notification ${title} ${group} → receiver ${receiver}${severity ? ` (severity=${severity})` : ''}${source}`;
  }
  const subject = envelope?.Subject ? `"${clip(envelope.Subject)}" ` : '';
  return `notification ${subject}${clip(message)}${source}`;
}

/**
 * Subscribes a local queue to every topic of the template and prints each notification through
 * `log`. Resolves once the subscriptions exist, so a notification published afterwards is shown.
 */
export async function startNotificationConsole(
  opts: StartNotificationConsoleOptions,
): Promise<NotificationConsole> {
  const { template, resolver, log } = opts;
  const topics = Object.entries(template.Resources)
    .filter(([, res]) => res.Type === 'AWS::SNS::Topic')
    .map(([id, res]) => ({
      arn: resolver.resolveString({ Ref: id }),
      fifo: String(resolver.resolve(res.Properties?.FifoTopic) ?? false) === 'true',
    }));
  if (topics.length === 0) return { topicArns: [], queueUrls: [], stop: async () => {} };

  const region = opts.region ?? 'us-east-1';
  const baseName = opts.queueName ?? NOTIFICATION_QUEUE_NAME;
  const taps: TopicTap[] = [];
  try {
    for (const fifo of [false, true]) {
      const group = topics.filter((t) => t.fifo === fifo);
      if (group.length === 0) continue;
      taps.push(
        await startTopicTap({
          endpoint: opts.endpoint,
          region,
          queueName: baseName,
          fifo,
          topics: group.map((topic) => ({ topicArn: topic.arn })),
          label: 'notifications',
          log,
          waitTimeSeconds: opts.waitTimeSeconds,
          errorBackoffMs: opts.errorBackoffMs,
          handle: async (message) => {
            log(formatNotificationLine(message.Body ?? ''));
            return 'done';
          },
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(taps.map((tap) => tap.stop()));
    throw error;
  }
  return {
    topicArns: topics.map((t) => t.arn),
    queueUrls: taps.map((tap) => tap.queueUrl),
    async stop() {
      await Promise.allSettled(taps.map((tap) => tap.stop()));
    },
  };
}
