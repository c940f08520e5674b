/**
 * A local EventBridge: `PutEvents` over the AWS JSON 1.1 protocol (so the unchanged
 * @aws-sdk/client-eventbridge works against it), routing to the template's rules, and rate()
 * schedules on a timer.
 *
 * Delivery semantics follow AWS: EventBridge invokes Lambda targets asynchronously, so function
 * errors are retried by Lambda's async rules (the invoker's job, per AWS::Lambda::EventInvokeConfig).
 * A target's RetryPolicy and DeadLetterConfig cover failures to deliver; locally the only such
 * failure is a target function or queue that does not exist, which AWS does not retry, so those
 * events go straight to the dead-letter queue (when `sqsSend` is given) or are logged.
 */

import { randomUUID } from 'node:crypto';
import { AwsJsonError, startAwsJsonServer } from './aws-json-server';
import { matchesEventPattern } from './event-pattern';
import type { CfnTemplate, FunctionInvoker, Resolver } from './types';

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

/** One PutEvents request entry, as the SDK serializes it. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  /** Epoch seconds (the JSON 1.1 timestamp form) or an ISO string. */
  Time?: number | string;
  TraceHeader?: string;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

/** Timer functions, injectable so schedule tests need no real time. */
export interface ScheduleTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface StartEventBridgeOptions {
  readonly template: CfnTemplate;
  readonly resolver: Resolver;
  readonly invoker: FunctionInvoker;
  readonly region?: string;
  readonly accountId?: string;
  /** Sends to an SQS queue by ARN: SQS targets and dead-letter queues. Without it those are logged. */
  readonly sqsSend?: (
    queueArn: string,
    body: string,
    attributes?: Record<string, string>,
  ) => void | Promise<void>;
  /** One-line engine messages. Default: console.warn. */
  readonly log?: (line: string) => void;
  /** Start rate() schedules immediately. Default true. */
  readonly startSchedules?: boolean;
  readonly timers?: ScheduleTimers;
  readonly now?: () => Date;
}

export interface LocalEventBridge {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  /** The same routing as the HTTP API, for callers in process. */
  putEvents(entries: PutEventsEntry[]): PutEventsResult;
  readonly schedules: { start(): void; stop(): void; readonly running: boolean };
  stop(): Promise<void>;
}

interface Target {
  readonly id: string;
  readonly arn: string;
  readonly input?: string;
  readonly inputPath?: string;
  readonly inputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate?: string };
  readonly deadLetterArn?: string;
}

interface Rule {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly bus: string;
  readonly pattern?: Record<string, unknown>;
  readonly schedule?: string;
  readonly targets: readonly Target[];
}

/** A bus given by name or ARN → its name. */
function busName(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  return nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
}

function rulesOf(template: CfnTemplate, resolver: Resolver): Rule[] {
  const rules: Rule[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources)) {
    if (res.Type !== 'AWS::Events::Rule') continue;
    const p = (resolver.resolve(res.Properties ?? {}) ?? {}) as Record<string, unknown>;
    if (p.State !== undefined && p.State !== 'ENABLED') continue;
    const pattern = typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern;
    const targets = ((p.Targets ?? []) as Array<Record<string, unknown>>).map((t) => ({
      id: String(t.Id),
      arn: String(t.Arn),
      input: t.Input === undefined ? undefined : String(t.Input),
      inputPath: t.InputPath === undefined ? undefined : String(t.InputPath),
      inputTransformer: t.InputTransformer as Target['inputTransformer'],
      deadLetterArn: (t.DeadLetterConfig as { Arn?: string } | undefined)?.Arn,
    }));
    rules.push({
      logicalId,
      name: resolver.resolveString({ Ref: logicalId }),
      arn: resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'Arn'] }),
      bus: busName(p.EventBusName as string | undefined),
      pattern: pattern as Record<string, unknown> | undefined,
      schedule: p.ScheduleExpression as string | undefined,
      targets,
    });
  }
  return rules;
}

/** `rate(5 minutes)` → milliseconds; undefined for cron() and anything else. */
export function rateToMs(expression: string): number | undefined {
  const m = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as string;
  const ms = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
  return n > 0 ? n * ms : undefined;
}

/** `$.detail.a.b` (the simple JSONPath EventBridge accepts) → the value, or undefined. */
function jsonPath(obj: unknown, path: string): unknown {
  if (path === '$') return obj;
  if (!path.startsWith('$.')) return undefined;
  let cur: unknown = obj;
  for (const key of path.slice(2).split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Fills an InputTemplate: inside a JSON string a placeholder gets the bare text of the value,
 * elsewhere its JSON. The result is parsed as JSON when it is JSON, else kept as a string.
 */
function applyTemplate(template: string, values: Record<string, unknown>): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const m = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (m && Object.hasOwn(values, m[1] as string)) {
      const v = values[m[1] as string];
      if (inString)
        out +=
          typeof v === 'string'
            ? JSON.stringify(v).slice(1, -1)
            : JSON.stringify(JSON.stringify(v ?? null)).slice(1, -1);
      else out += JSON.stringify(v ?? null);
      i += m[0].length - 1;
    } else {
      out += c;
    }
  }
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
}

function targetPayload(target: Target, event: Record<string, unknown>, rule: Rule): unknown {
  if (target.input !== undefined) return JSON.parse(target.input);
  if (target.inputPath !== undefined) return jsonPath(event, target.inputPath) ?? null;
  const t = target.inputTransformer;
  if (t?.InputTemplate !== undefined) {
    const values: Record<string, unknown> = {
      'aws.events.rule-arn': rule.arn,
      'aws.events.rule-name': rule.name,
      'aws.events.event.ingestion-time': event.time,
      'aws.events.event': event,
      'aws.events.event.json': event,
    };
    for (const [name, path] of Object.entries(t.InputPathsMap ?? {}))
      values[name] = jsonPath(event, path) ?? null;
    return applyTemplate(t.InputTemplate, values);
  }
  return event;
}

function entrySize(e: PutEventsEntry): number {
  const bytes = (s: string | undefined) => (s ? Buffer.byteLength(s, 'utf8') : 0);
  return (
    (e.Time !== undefined ? 14 : 0) +
    bytes(e.Source) +
    bytes(e.DetailType) +
    bytes(e.Detail) +
    (e.Resources ?? []).reduce((n, r) => n + bytes(r), 0)
  );
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Starts the local EventBridge on a free loopback port. */
export async function startEventBridge(opts: StartEventBridgeOptions): Promise<LocalEventBridge> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.accountId ?? '000000000000';
  const log = opts.log ?? ((line: string) => console.warn(line));
  const now = opts.now ?? (() => new Date());
  const timers: ScheduleTimers = opts.timers ?? {
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  };
  const rules = rulesOf(opts.template, opts.resolver);
  const buses = new Set(['default']);
  const functionArns = new Set<string>();
  const queueArns = new Set<string>();
  for (const [id, res] of Object.entries(opts.template.Resources)) {
    if (res.Type === 'AWS::Events::EventBus') buses.add(opts.resolver.resolveString({ Ref: id }));
    if (res.Type === 'AWS::Lambda::Function')
      functionArns.add(opts.resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }));
    if (res.Type === 'AWS::SQS::Queue')
      queueArns.add(opts.resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] }));
  }
  const unqualified = (arn: string) =>
    arn.replace(/^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+):[^:]+$/, '$1');

  for (const rule of rules) {
    for (const t of rule.targets) {
      const service = t.arn.split(':')[2];
      if (service !== 'lambda' && !(service === 'sqs' && opts.sqsSend)) {
        log(
          `EventBridge rule ${rule.name}: target ${t.id} (${t.arn}) is not delivered locally: only Lambda and SQS targets are`,
        );
      }
    }
  }

  function deadLetter(rule: Rule, target: Target, event: unknown, code: string, message: string): void {
    if (target.deadLetterArn && opts.sqsSend) {
      const attributes = {
        RULE_ARN: rule.arn,
        TARGET_ARN: target.arn,
        ERROR_CODE: code,
        ERROR_MESSAGE: message,
      };
      Promise.resolve(opts.sqsSend(target.deadLetterArn, JSON.stringify(event), attributes)).catch(
        (err: Error) =>
          log(
            `EventBridge rule ${rule.name}: sending to dead-letter queue ${target.deadLetterArn} failed: ${err.message}`,
          ),
      );
      return;
    }
    log(`EventBridge rule ${rule.name}: event to target ${target.id} dropped: ${code}: ${message}`);
  }

  function deliver(rule: Rule, target: Target, event: Record<string, unknown>): void {
    let payload: unknown;
    try {
      payload = targetPayload(target, event, rule);
    } catch (err) {
      deadLetter(rule, target, event, 'InvalidInput', (err as Error).message);
      return;
    }
    const service = target.arn.split(':')[2];
    if (service === 'lambda') {
      if (!functionArns.has(unqualified(target.arn))) {
        deadLetter(rule, target, event, 'ResourceNotFoundException', `Function not found: ${target.arn}`);
      } else if (opts.invoker.invokeAsync) {
        opts.invoker.invokeAsync(target.arn, payload);
      } else {
        void opts.invoker.invoke(target.arn, payload);
      }
    } else if (service === 'sqs' && opts.sqsSend) {
      if (!queueArns.has(target.arn)) {
        deadLetter(rule, target, event, 'ResourceNotFoundException', `Queue not found: ${target.arn}`);
        return;
      }
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      Promise.resolve(opts.sqsSend(target.arn, body)).catch((err: Error) =>
        deadLetter(rule, target, event, 'SQSError', err.message),
      );
    }
  }

  function route(event: Record<string, unknown>, bus: string, only?: Rule): void {
    for (const rule of only ? [only] : rules) {
      if (!only) {
        if (rule.bus !== bus || !rule.pattern) continue;
        let matched: boolean;
        try {
          matched = matchesEventPattern(rule.pattern, event);
        } catch (err) {
          log(`EventBridge rule ${rule.name}: event pattern not usable locally: ${(err as Error).message}`);
          continue;
        }
        if (!matched) continue;
      }
      for (const target of rule.targets) deliver(rule, target, event);
    }
  }

  function validate(e: PutEventsEntry): { ErrorCode: string; ErrorMessage: string } | undefined {
    const required = (field: string) => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
    });
    if (!e.Source) return required('Source');
    if (!e.DetailType) return required('DetailType');
    if (e.Detail === undefined || e.Detail === '') return required('Detail');
    try {
      const detail: unknown = JSON.parse(e.Detail);
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
        throw new Error('not an object');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (!buses.has(busName(e.EventBusName))) {
      return {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: `Event bus ${busName(e.EventBusName)} does not exist.`,
      };
    }
    return undefined;
  }

  function putEvents(entries: PutEventsEntry[]): PutEventsResult {
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new AwsJsonError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
      );
    }
    if (entries.reduce((n, e) => n + entrySize(e), 0) > MAX_REQUEST_BYTES) {
      throw new AwsJsonError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const results: PutEventsResultEntry[] = entries.map((e) => {
      const error = validate(e);
      if (error) return error;
      const id = randomUUID();
      const time =
        e.Time === undefined
          ? now()
          : typeof e.Time === 'number'
            ? new Date(e.Time * 1000)
            : new Date(e.Time);
      const event = {
        version: '0',
        id,
        'detail-type': e.DetailType,
        source: e.Source,
        account,
        time: isoSeconds(Number.isNaN(time.getTime()) ? now() : time),
        region,
        resources: e.Resources ?? [],
        detail: JSON.parse(e.Detail as string),
      };
      route(event, busName(e.EventBusName));
      return { EventId: id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  const handles: unknown[] = [];
  const schedules = {
    get running() {
      return handles.length > 0;
    },
    start() {
      if (handles.length > 0) return;
      for (const rule of rules) {
        if (!rule.schedule) continue;
        const ms = rateToMs(rule.schedule);
        if (ms === undefined) {
          log(
            `EventBridge rule ${rule.name}: schedule '${rule.schedule}' is not supported locally (only rate())`,
          );
          continue;
        }
        handles.push(
          timers.setInterval(() => {
            const event = {
              version: '0',
              id: randomUUID(),
              'detail-type': 'Scheduled Event',
              source: 'aws.events',
              account,
              time: isoSeconds(now()),
              region,
              resources: [rule.arn],
              detail: {},
            };
            route(event, rule.bus, rule);
          }, ms),
        );
      }
    },
    stop() {
      for (const h of handles.splice(0)) timers.clearInterval(h);
    },
  };

  const server = await startAwsJsonServer({
    targetPrefix: 'AWSEvents',
    serviceName: 'EventBridge',
    operations: {
      PutEvents: (input) =>
        putEvents(Array.isArray(input.Entries) ? (input.Entries as PutEventsEntry[]) : []),
    },
    maxRequestBytes: 4 * MAX_REQUEST_BYTES,
    messageKey: 'message',
    internalErrorType: 'InternalException',
  });
  if (opts.startSchedules ?? true) schedules.start();

  return {
    endpoint: server.endpoint,
    putEvents,
    schedules,
    async stop() {
      schedules.stop();
      await server.close();
    },
  };
}
