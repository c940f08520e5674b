/**
 * SQS → Lambda event source mappings (AWS::Lambda::EventSourceMapping) for the local runtime:
 * pollers that long-poll the template's queues on the runtime's SQS endpoint (fauxqs or an
 * external engine such as LocalStack) and invoke the mapped function synchronously with the
 * event Lambda's own pollers build.
 *
 * Semantics kept from AWS (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):
 * - a batch is up to BatchSize messages (default 10), gathered for up to
 *   MaximumBatchingWindowInSeconds (default 0: whatever one receive returns);
 * - messages stay in the queue while the function runs, hidden by the queue's own visibility
 *   timeout; a successful invocation deletes the batch, a failed or timed-out one deletes nothing,
 *   so the messages reappear after the visibility timeout and the queue's RedrivePolicy moves them
 *   to its dead-letter queue after maxReceiveCount receives;
 * - with FunctionResponseTypes ReportBatchItemFailures, the ids in `batchItemFailures` stay and the
 *   rest are deleted; a malformed response fails the whole batch;
 * - FilterCriteria drop (delete) messages that match no pattern, without invoking;
 * - ScalingConfig.MaximumConcurrency caps the concurrent batches; `Enabled: false` mappings do not poll.
 * Only SQS sources run locally; other mappings are logged once at start and skipped.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { matchesEventPattern } from './event-pattern';
import type { CfnTemplate, FunctionInvoker, InvokeOutcome, Resolver } from './types';

/** One record of the event Lambda passes for an SQS event source. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
    readonly [name: string]: string;
  };
  readonly messageAttributes: Readonly<Record<string, SqsRecordMessageAttribute>>;
  /** Present when the message has message attributes. */
  readonly md5OfMessageAttributes?: string;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export interface SqsRecordMessageAttribute {
  readonly stringValue?: string;
  /** Base64. */
  readonly binaryValue?: string;
  readonly stringListValues: string[];
  readonly binaryListValues: string[];
  readonly dataType: string;
}

/** A mapping the runtime polls: an SQS queue of the template feeding one of its functions. */
export interface SqsEventSourceMapping {
  readonly logicalId: string;
  readonly queueLogicalId: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** The function's logical id, as the invoker takes it. */
  readonly functionLogicalId: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency, when set. */
  readonly maximumConcurrency?: number;
  /** FilterCriteria patterns (objects); empty means every message is delivered. */
  readonly filterPatterns: readonly Record<string, unknown>[];
}

export interface StartEventSourceMappingsOptions {
  readonly template: CfnTemplate;
  /** The runtime's final resolver, so queue ARNs are the ones the engine issued. */
  readonly resolver: Resolver;
  readonly invoker: FunctionInvoker;
  /** The SQS endpoint the queues live on, e.g. `LocalSns.endpoint`. */
  readonly endpoint: string;
  /** Queue URL by AWS::SQS::Queue logical id, e.g. `LocalSns.queueUrls`. */
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly region?: string;
  /** One-line messages: skipped mappings, failed batches, receive errors. Default: console.warn. */
  readonly log?: (line: string) => void;
  /** Long-poll wait of each ReceiveMessage, 1–20 s. Default 1, so `stop()` never waits long. */
  readonly waitTimeSeconds?: number;
  /**
   * Concurrent batches per mapping (ScalingConfig.MaximumConcurrency lowers it). Default 4, the
   * Lambda runtime's default number of environments per function.
   */
  readonly maxPollersPerMapping?: number;
  /** Pause after a failed ReceiveMessage (engine down, queue deleted). Default 1000 ms. */
  readonly errorBackoffMs?: number;
}

export interface LocalEventSourceMappings {
  /** The mappings being polled (enabled SQS mappings whose queue and function are in the template). */
  readonly mappings: readonly SqsEventSourceMapping[];
  /** Stops polling: aborts pending receives and abandons running batches (their messages reappear). */
  stop(): Promise<void>;
}

const DEFAULT_BATCH_SIZE = 10;
const MAX_MESSAGES_PER_RECEIVE = 10;
const DEFAULT_VISIBILITY_TIMEOUT_S = 30;
const DEFAULT_FUNCTION_TIMEOUT_S = 3;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** CloudFormation booleans arrive as booleans or as 'true'/'false'. */
function isFalse(v: unknown): boolean {
  return v === false || (typeof v === 'string' && v.toLowerCase() === 'false');
}

function positiveNumber(v: unknown, fallback: number): number {
  const n = Number(v);
  return v === undefined || v === null || !Number.isFinite(n) || n < 0 ? fallback : n;
}

function base64(bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('base64');
}

function recordAttribute(value: MessageAttributeValue): SqsRecordMessageAttribute {
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
    stringListValues: [...(value.StringListValues ?? [])],
    binaryListValues: (value.BinaryListValues ?? []).map(base64),
    dataType: value.DataType ?? 'String',
  };
}

/** A received message as Lambda's SQS poller hands it to the function. */
export function sqsRecord(message: Message, eventSourceARN: string, awsRegion: string): SqsRecord {
  const system = message.Attributes ?? {};
  const now = String(Date.now());
  const { ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, ...rest } =
    system as Record<string, string | undefined>;
  const extra = Object.fromEntries(
    Object.entries(rest).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const messageAttributes = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, recordAttribute(value)]),
  );
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: ApproximateReceiveCount ?? '1',
      SentTimestamp: SentTimestamp ?? now,
      SenderId: SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: ApproximateFirstReceiveTimestamp ?? now,
      ...extra,
    },
    messageAttributes,
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/**
 * Lambda's reading of a ReportBatchItemFailures response: the message ids to keep in the queue,
 * or `'all'` when the response fails the whole batch. A null response, a response without
 * `batchItemFailures`, or an empty or null list is a full success; a non-object response, a
 * non-list `batchItemFailures`, or an item whose `itemIdentifier` is missing, empty or not in the
 * batch is a full failure.
 */
export function batchItemFailures(
  payload: unknown,
  messageIds: readonly string[],
): ReadonlySet<string> | 'all' {
  if (payload === null || payload === undefined) return new Set();
  if (!isObject(payload)) return 'all';
  const list = payload.batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const inBatch = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of list) {
    const id = isObject(item) ? item.itemIdentifier : undefined;
    if (typeof id !== 'string' || !inBatch.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

/** A record as Lambda's filtering sees it: a JSON body is matched as the parsed object. */
function matchesFilters(patterns: readonly Record<string, unknown>[], record: SqsRecord): boolean {
  if (patterns.length === 0) return true;
  let body: unknown = record.body;
  try {
    body = JSON.parse(record.body);
  } catch {
    // A plain-text body is matched as the string it is.
  }
  const subject = { ...record, body };
  return patterns.some((pattern) => {
    try {
      return matchesEventPattern(pattern, subject);
    } catch {
      return false; // A malformed pattern (AWS rejects it at deploy time) matches nothing.
    }
  });
}

/** The last `:`-separated part of an ARN. */
function arnName(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

/**
 * Reads the template's enabled SQS event source mappings whose queue and function are in the
 * template; every other mapping is logged once and left out.
 */
export function sqsEventSourceMappingsOf(
  template: CfnTemplate,
  resolver: Resolver,
  queueUrls: Readonly<Record<string, string>>,
  log: (line: string) => void,
): SqsEventSourceMapping[] {
  const resources = Object.entries(template.Resources);
  const queues = resources
    .filter(([, res]) => res.Type === 'AWS::SQS::Queue')
    .map(([id, res]) => ({
      id,
      res,
      arn: resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }),
    }));
  const functions = resources
    .filter(([, res]) => res.Type === 'AWS::Lambda::Function')
    .map(([id, res]) => ({
      id,
      res,
      name: resolver.resolveString({ Ref: id }),
      arn: resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }),
    }));

  const mappings: SqsEventSourceMapping[] = [];
  for (const [logicalId, res] of resources) {
    if (res.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    let p: Record<string, unknown>;
    try {
      p = (resolver.resolve(res.Properties ?? {}) ?? {}) as Record<string, unknown>;
    } catch (error) {
      log(
        `Event source mapping ${logicalId} cannot be resolved locally (${(error as Error).message}); skipped`,
      );
      continue;
    }
    if (isFalse(p.Enabled)) continue;
    const sourceArn = typeof p.EventSourceArn === 'string' ? p.EventSourceArn : '';
    if (!sourceArn.startsWith('arn:') || sourceArn.split(':')[2] !== 'sqs') {
      log(
        `Event source mapping ${logicalId} (${sourceArn || 'no EventSourceArn'}) is not polled locally: only SQS sources are`,
      );
      continue;
    }
    const queue = queues.find((q) => q.arn === sourceArn);
    const queueUrl = queue ? queueUrls[queue.id] : undefined;
    if (!queue || !queueUrl) {
      log(
        `Event source mapping ${logicalId} reads queue ${arnName(sourceArn)}, which is not in this template; skipped`,
      );
      continue;
    }
    const fnRef = String(p.FunctionName ?? '');
    const fn = functions.find(
      (f) =>
        fnRef === f.id ||
        fnRef === f.name ||
        fnRef === f.arn ||
        fnRef.startsWith(`${f.arn}:`) ||
        fnRef.endsWith(`:function:${f.name}`),
    );
    if (!fn) {
      log(
        `Event source mapping ${logicalId} invokes function ${fnRef}, which is not in this template; skipped`,
      );
      continue;
    }

    const visibility = positiveNumber(
      resolver.resolve(queue.res.Properties?.VisibilityTimeout),
      DEFAULT_VISIBILITY_TIMEOUT_S,
    );
    const timeout = positiveNumber(resolver.resolve(fn.res.Properties?.Timeout), DEFAULT_FUNCTION_TIMEOUT_S);
    if (visibility < timeout) {
      log(
        `Event source mapping ${logicalId}: queue visibility timeout ${visibility} s is less than the function ` +
          `timeout ${timeout} s; AWS rejects this mapping, and locally messages may be delivered twice`,
      );
    }

    const scaling = isObject(p.ScalingConfig) ? p.ScalingConfig : {};
    const maxConcurrency =
      scaling.MaximumConcurrency === undefined ? undefined : Number(scaling.MaximumConcurrency);
    const filters =
      isObject(p.FilterCriteria) && Array.isArray(p.FilterCriteria.Filters) ? p.FilterCriteria.Filters : [];
    const filterPatterns: Record<string, unknown>[] = [];
    for (const filter of filters) {
      const pattern = isObject(filter) ? filter.Pattern : undefined;
      try {
        const parsed: unknown = typeof pattern === 'string' ? JSON.parse(pattern) : pattern;
        if (!isObject(parsed)) throw new Error('a pattern must be a JSON object');
        filterPatterns.push(parsed);
      } catch (error) {
        log(`Event source mapping ${logicalId}: filter pattern ignored (${(error as Error).message})`);
      }
    }
    mappings.push({
      logicalId,
      queueLogicalId: queue.id,
      queueUrl,
      queueArn: queue.arn,
      functionLogicalId: fn.id,
      batchSize: Math.max(1, Math.floor(positiveNumber(p.BatchSize, DEFAULT_BATCH_SIZE))),
      batchingWindowMs: positiveNumber(p.MaximumBatchingWindowInSeconds, 0) * 1000,
      reportBatchItemFailures:
        Array.isArray(p.FunctionResponseTypes) && p.FunctionResponseTypes.includes('ReportBatchItemFailures'),
      ...(maxConcurrency !== undefined && Number.isFinite(maxConcurrency)
        ? { maximumConcurrency: maxConcurrency }
        : {}),
      filterPatterns,
    });
  }
  return mappings;
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer behind. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Starts one set of pollers per enabled SQS event source mapping of the template. Everything goes
 * through the SQS API at `endpoint`, so it works the same against fauxqs and LocalStack.
 */
export function startEventSourceMappings(opts: StartEventSourceMappingsOptions): LocalEventSourceMappings {
  const region = opts.region ?? 'us-east-1';
  const log = opts.log ?? ((line: string) => console.warn(line));
  const waitTimeSeconds = Math.min(20, Math.max(1, Math.round(opts.waitTimeSeconds ?? 1)));
  const maxPollers = Math.max(1, opts.maxPollersPerMapping ?? 4);
  const errorBackoffMs = opts.errorBackoffMs ?? 1000;
  const mappings = sqsEventSourceMappingsOf(opts.template, opts.resolver, opts.queueUrls, log);
  const sqs = new SQSClient({
    endpoint: opts.endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const abort = new AbortController();
  const { signal } = abort;

  /** `work`'s result, or 'stopped' as soon as `stop()` is called; no listener outlives the call. */
  function untilStopped<T>(work: Promise<T>): Promise<T | 'stopped'> {
    if (signal.aborted) return Promise.resolve('stopped');
    return new Promise((resolve, reject) => {
      const onAbort = () => resolve('stopped');
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** The mapping's next batch: empty when one long poll found nothing. */
  async function receiveBatch(m: SqsEventSourceMapping): Promise<Message[]> {
    const batch: Message[] = [];
    let windowEnd: number | undefined;
    for (;;) {
      const remainingMs = windowEnd === undefined ? undefined : windowEnd - Date.now();
      if (remainingMs !== undefined && remainingMs <= 0) return batch;
      const wait =
        remainingMs === undefined
          ? waitTimeSeconds
          : Math.min(waitTimeSeconds, Math.ceil(remainingMs / 1000));
      let received: Message[];
      try {
        ({ Messages: received = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: m.queueUrl,
            MaxNumberOfMessages: Math.min(MAX_MESSAGES_PER_RECEIVE, m.batchSize - batch.length),
            WaitTimeSeconds: wait,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        ));
      } catch (error) {
        // Mid-window, deliver what was gathered; the error shows again on the next receive.
        if (batch.length > 0 && !signal.aborted) return batch;
        throw error;
      }
      for (const message of received) {
        // A message whose visibility timeout ran out during the window comes back: keep its newest receipt.
        const earlier = batch.findIndex((b) => b.MessageId === message.MessageId);
        if (earlier >= 0) batch[earlier] = message;
        else batch.push(message);
      }
      if (batch.length === 0 || batch.length >= m.batchSize || m.batchingWindowMs === 0) return batch;
      windowEnd ??= Date.now() + m.batchingWindowMs;
    }
  }

  async function deleteMessages(m: SqsEventSourceMapping, records: readonly SqsRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += MAX_MESSAGES_PER_RECEIVE) {
      const chunk = records.slice(i, i + MAX_MESSAGES_PER_RECEIVE);
      try {
        const { Failed = [] } = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: m.queueUrl,
            Entries: chunk.map((r, n) => ({ Id: `m${n}`, ReceiptHandle: r.receiptHandle })),
          }),
        );
        for (const f of Failed)
          log(`Event source mapping ${m.logicalId}: delete failed: ${f.Code}: ${f.Message}`);
      } catch (error) {
        log(`Event source mapping ${m.logicalId}: delete failed: ${(error as Error).message}`);
      }
    }
  }

  async function deliver(m: SqsEventSourceMapping, batch: readonly Message[]): Promise<void> {
    const records = batch.map((message) => sqsRecord(message, m.queueArn, region));
    const matching = records.filter((r) => matchesFilters(m.filterPatterns, r));
    const filteredOut = records.filter((r) => !matching.includes(r));
    if (filteredOut.length > 0) await deleteMessages(m, filteredOut);
    if (matching.length === 0) return;

    const outcome: InvokeOutcome | 'stopped' = await untilStopped(
      opts.invoker.invoke(m.functionLogicalId, { Records: matching }),
    );
    // Stopping mid-invocation abandons the batch, as a poller that goes away would: it reappears.
    if (outcome === 'stopped') return;
    const queueName = arnName(m.queueArn);
    if (outcome.kind !== 'ok') {
      const why = outcome.kind === 'timeout' ? 'timed out' : `${outcome.errorType}: ${outcome.errorMessage}`;
      log(
        `Event source mapping ${m.logicalId}: ${m.functionLogicalId} failed (${why}); ` +
          `${matching.length} message(s) return to ${queueName} after its visibility timeout`,
      );
      return;
    }
    const failed = m.reportBatchItemFailures
      ? batchItemFailures(
          outcome.payload,
          matching.map((r) => r.messageId),
        )
      : new Set<string>();
    if (failed === 'all') {
      log(
        `Event source mapping ${m.logicalId}: ${m.functionLogicalId} returned an invalid batchItemFailures ` +
          `response; all ${matching.length} message(s) return to ${queueName}`,
      );
      return;
    }
    await deleteMessages(
      m,
      matching.filter((r) => !failed.has(r.messageId)),
    );
  }

  async function poll(m: SqsEventSourceMapping): Promise<void> {
    let lastError: string | undefined;
    while (!signal.aborted) {
      let batch: Message[];
      try {
        batch = await receiveBatch(m);
        lastError = undefined;
      } catch (error) {
        if (signal.aborted) return;
        const message = (error as Error).message;
        if (message !== lastError) log(`Event source mapping ${m.logicalId}: receive failed: ${message}`);
        lastError = message;
        await pause(errorBackoffMs, signal);
        continue;
      }
      if (batch.length === 0) continue;
      try {
        await deliver(m, batch);
      } catch (error) {
        log(`Event source mapping ${m.logicalId}: batch not delivered: ${(error as Error).message}`);
      }
    }
  }

  const loops = mappings.flatMap((m) => {
    const pollers = Math.max(1, Math.min(maxPollers, m.maximumConcurrency ?? maxPollers));
    return Array.from({ length: pollers }, () => poll(m));
  });

  return {
    mappings,
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
      sqs.destroy();
    },
  };
}
