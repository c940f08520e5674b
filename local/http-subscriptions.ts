/**
 * SNS HTTP and HTTPS subscriptions delivered by the local runtime. fauxqs accepts such
 * subscriptions but delivers only to SQS, so each one of the template gets a local queue subscribed
 * to its topic with the same filter policy; a poller POSTs what arrives to the endpoint as SNS
 * would: the same headers, the raw message or the JSON envelope, and SNS's default HTTP/S retry
 * policy (3 retries, 20 s apart, on a 5xx, a timeout or a refused connection), then the
 * subscription's dead-letter queue (RedrivePolicy) when it has one.
 *
 * Differences from SNS, on purpose: the subscription is not confirmed first (the endpoint gets no
 * SubscriptionConfirmation and nothing has to visit a SubscribeURL), and envelopes are not signed.
 */
import { createHash } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import { type SnsEnvelope, startTopicTap, type TopicTap, type Verdict } from './topic-tap';
import type { CfnTemplate, Resolver } from './types';

/** SNS's default healthy retry policy for HTTP/S: three retries, 20 s apart. */
export const DEFAULT_RETRY = { retries: 3, delaySeconds: 20 } as const;
/** SNS waits 15 s for an HTTP/S endpoint to answer. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface HttpSubscription {
  /** The AWS::SNS::Subscription's logical id. */
  readonly id: string;
  readonly topicArn: string;
  readonly protocol: 'http' | 'https';
  readonly endpoint: string;
  readonly raw: boolean;
  /** FilterPolicy and FilterPolicyScope, as the queue's subscription takes them. */
  readonly filterAttributes: Readonly<Record<string, string>>;
  /** The RedrivePolicy's queue: where a notification goes when delivery is given up. */
  readonly deadLetterTargetArn?: string;
}

/** The template's HTTP and HTTPS subscriptions, resolved. */
export function httpSubscriptionsOf(template: CfnTemplate, resolver: Resolver): HttpSubscription[] {
  const found: HttpSubscription[] = [];
  for (const [id, res] of Object.entries(template.Resources)) {
    if (res.Type !== 'AWS::SNS::Subscription') continue;
    const p = (resolver.resolve(res.Properties ?? {}) ?? {}) as Record<string, unknown>;
    const protocol = String(p.Protocol ?? '').toLowerCase();
    if (protocol !== 'http' && protocol !== 'https') continue;
    const filterAttributes: Record<string, string> = {};
    if (p.FilterPolicy !== undefined) filterAttributes.FilterPolicy = text(p.FilterPolicy);
    if (p.FilterPolicyScope !== undefined) filterAttributes.FilterPolicyScope = text(p.FilterPolicyScope);
    const redrive = (typeof p.RedrivePolicy === 'string' ? JSON.parse(p.RedrivePolicy) : p.RedrivePolicy) as
      | { deadLetterTargetArn?: unknown }
      | undefined;
    found.push({
      id,
      topicArn: String(p.TopicArn ?? ''),
      protocol,
      endpoint: String(p.Endpoint ?? ''),
      raw: String(p.RawMessageDelivery ?? false) === 'true',
      filterAttributes,
      ...(typeof redrive?.deadLetterTargetArn === 'string'
        ? { deadLetterTargetArn: redrive.deadLetterTargetArn }
        : {}),
    });
  }
  return found;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The request SNS makes for one notification: `x-amz-sns-*` headers, `text/plain` as SNS sends by
 * default, and the message itself (raw delivery) or the JSON envelope. `sqsBody` is what the local
 * queue received: always the envelope, which carries the MessageId and attributes.
 */
export function snsHttpRequest(
  subscription: HttpSubscription,
  subscriptionArn: string,
  sqsBody: string,
): { headers: Record<string, string>; body: string } {
  const envelope = JSON.parse(sqsBody) as SnsEnvelope;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=UTF-8',
    'user-agent': 'Amazon Simple Notification Service Agent',
    'x-amz-sns-message-type': 'Notification',
    'x-amz-sns-message-id': envelope.MessageId ?? '',
    'x-amz-sns-topic-arn': envelope.TopicArn ?? subscription.topicArn,
    'x-amz-sns-subscription-arn': subscriptionArn,
  };
  if (subscription.raw) {
    return { headers: { ...headers, 'x-amz-sns-rawdelivery': 'true' }, body: envelope.Message };
  }
  return { headers, body: sqsBody };
}

/** After an attempt: delivered (any answer below 500), retried later, or given up. */
export function afterAttempt(
  outcome: { status: number } | { error: string },
  attempt: number,
  retry: { retries: number; delaySeconds: number } = DEFAULT_RETRY,
): Verdict | 'given-up' {
  if ('status' in outcome && outcome.status < 500) return 'done';
  return attempt > retry.retries ? 'given-up' : { retryAfterSeconds: retry.delaySeconds };
}

export interface StartHttpSubscriptionsOptions {
  readonly template: CfnTemplate;
  /** The runtime's final resolver, so topic ARNs are the ones the engine issued. */
  readonly resolver: Resolver;
  readonly endpoint: string;
  readonly region: string;
  readonly log: (line: string) => void;
  /** Default SNS's: 3 retries, 20 s apart. */
  readonly retry?: { readonly retries: number; readonly delaySeconds: number };
  /** Enqueues on a dead-letter queue by ARN (`LocalSns.sendToQueue`). */
  readonly sendToQueue: (queueArn: string, body: string, attributes: Record<string, string>) => void;
}

export interface HttpSubscriptions {
  readonly subscriptions: readonly HttpSubscription[];
  stop(): Promise<void>;
}

/** Starts delivering every HTTP and HTTPS subscription of the template. */
export async function startHttpSubscriptions(
  opts: StartHttpSubscriptionsOptions,
): Promise<HttpSubscriptions> {
  const { log } = opts;
  const subscriptions = httpSubscriptionsOf(opts.template, opts.resolver);
  const taps: TopicTap[] = [];
  try {
    for (const subscription of subscriptions) {
      const subscriptionArn = `${subscription.topicArn}:${subscription.id}`;
      const deliver = async (message: Message): Promise<Verdict> => {
        const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
        const { headers, body } = snsHttpRequest(subscription, subscriptionArn, message.Body ?? '{}');
        let outcome: { status: number } | { error: string };
        try {
          const response = await fetch(subscription.endpoint, {
            method: 'POST',
            headers,
            body,
            redirect: 'manual',
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          await response.body?.cancel();
          outcome = { status: response.status };
        } catch (error) {
          outcome = { error: (error as Error).message };
        }
        const verdict = afterAttempt(outcome, attempt, opts.retry);
        const what = 'status' in outcome ? `answered ${outcome.status}` : `failed (${outcome.error})`;
        const where = `${subscription.protocol} ${subscription.endpoint} (${subscription.id})`;
        if (verdict === 'given-up' && subscription.deadLetterTargetArn) {
          // The envelope, which keeps the MessageId and attributes, plus why delivery ended.
          opts.sendToQueue(subscription.deadLetterTargetArn, message.Body ?? '{}', {
            ErrorMessage: `${subscription.endpoint} ${what}`,
          });
          log(`sns: ${where} ${what}; moved to the dead-letter queue after ${attempt} attempts`);
        } else if (verdict === 'given-up') log(`sns: ${where} ${what}; dropped after ${attempt} attempts`);
        else if (verdict !== 'done') log(`sns: ${where} ${what}; attempt ${attempt}, retrying`);
        else if ('status' in outcome && outcome.status >= 300)
          log(`sns: ${where} ${what}; SNS counts that as delivered`);
        return verdict === 'given-up' ? 'done' : verdict;
      };
      taps.push(
        await startTopicTap({
          endpoint: opts.endpoint,
          region: opts.region,
          // Queue names allow 80 characters: a digest of the logical id keeps them short and unique.
          queueName: `pulseboard-local-http-${createHash('sha256').update(subscription.id).digest('hex').slice(0, 16)}`,
          topics: [{ topicArn: subscription.topicArn, attributes: { ...subscription.filterAttributes } }],
          label: `sns ${subscription.id}`,
          log,
          handle: deliver,
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(taps.map((tap) => tap.stop()));
    throw error;
  }
  return {
    subscriptions,
    async stop() {
      await Promise.allSettled(taps.map((tap) => tap.stop()));
    },
  };
}
