import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../../local/intrinsics';
import { createLambdaRuntime, type LambdaRuntime } from '../../../local/lambda-runtime';
import type { CfnTemplate } from '../../../local/types';

const handlers: Record<string, string> = {
  'ok.mjs': `
    let calls = 0;
    export const handler = async (event, context) => {
      calls += 1;
      console.log('hello from ok');
      return {
        echo: event, calls,
        requestId: context.awsRequestId, name: context.functionName, arn: context.invokedFunctionArn,
        memory: context.memoryLimitInMB, logGroup: context.logGroupName, remaining: context.getRemainingTimeInMillis(),
        env: { fn: process.env.AWS_LAMBDA_FUNCTION_NAME, table: process.env.TABLE_NAME, extra: process.env.AWS_ENDPOINT_URL_DYNAMODB,
               region: process.env.AWS_REGION, tz: process.env.TZ, version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
               leaked: process.env.LEAKED ?? null },
      };
    };`,
  'setter.mjs': `export const handler = async () => { process.env.LEAKED = 'yes'; return process.env.LEAKED; };`,
  'throws.mjs': `
    let calls = 0;
    class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; } }
    export const handler = async (event) => { calls += 1; if (event.fail) throw new ValidationError('bad input'); return calls; };`,
  'slow.mjs': `
    let calls = 0;
    export const handler = async (event) => { calls += 1; if (event.hang) await new Promise(() => {}); return calls; };`,
  'gate.mjs': `
    import { existsSync } from 'node:fs';
    import { threadId } from 'node:worker_threads';
    export const handler = async (event) => {
      for (let i = 0; i < 500 && !existsSync(event.gate); i++) await new Promise((r) => setTimeout(r, 10));
      return threadId;
    };`,
  'crash.mjs': `
    let calls = 0;
    export const handler = async (event) => {
      calls += 1;
      if (event.crash) { setImmediate(() => { throw new Error('stray'); }); return new Promise(() => {}); }
      return calls;
    };`,
  'flaky.mjs': `
    import { appendFileSync } from 'node:fs';
    export const handler = async (event) => { appendFileSync(event.file, 'x\\n'); throw new Error('always'); };`,
  'callback.cjs': `exports.handler = function (event, context, callback) { callback(null, { doubled: event.n * 2 }); };`,
  'noexport.mjs': `export const other = 1;`,
};

const fn = (handler: string, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Handler: handler, Runtime: 'nodejs22.x', ...extra },
});

const template: CfnTemplate = {
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'series' } },
    Ok: fn('ok.handler', {
      FunctionName: 'ok-fn',
      MemorySize: 256,
      Environment: { Variables: { TABLE_NAME: { Ref: 'Table' } } },
    }),
    Setter: fn('setter.handler'),
    Throws: fn('throws.handler'),
    Slow: fn('slow.handler', { Timeout: 1 }),
    Gate: fn('gate.handler', { Timeout: 10 }),
    Crash: fn('crash.handler'),
    Flaky: fn('flaky.handler'),
    FlakyConfig: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: { FunctionName: { Ref: 'Flaky' }, Qualifier: '$LATEST', MaximumRetryAttempts: 1 },
    },
    Callback: fn('callback.handler'),
    NoExport: fn('noexport.handler'),
    Missing: fn('nothere.handler'),
    Python: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'python3.13' },
    },
  },
};

let dir: string;
let runtime: LambdaRuntime;
let lines: Array<{ fn: string; line: string }>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lambda-runtime-'));
  for (const [file, code] of Object.entries(handlers)) writeFileSync(join(dir, file), code);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(maxConcurrencyPerFunction?: number): LambdaRuntime {
  lines = [];
  return createLambdaRuntime({
    template,
    resolver: createResolver({ template, stackName: 'Test', region: 'eu-west-1', accountId: '111111111111' }),
    codeDir: () => dir,
    region: 'eu-west-1',
    extraEnv: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' },
    maxConcurrencyPerFunction,
    asyncRetryDelayMs: () => 0,
    log: (f, line) => lines.push({ fn: f, line }),
  });
}

afterEach(async () => {
  await runtime?.close();
});

describe('createLambdaRuntime', () => {
  it('runs a handler with the event, a Lambda context and the function environment', async () => {
    // Prepare
    runtime = start();
    // Act
    const out = await runtime.invoke('Ok', { a: 1 });
    // Assess
    expect(out.kind).toBe('ok');
    const payload = (out as { payload: Record<string, unknown> }).payload;
    expect(payload).toMatchObject({
      echo: { a: 1 },
      name: 'ok-fn',
      arn: 'arn:aws:lambda:eu-west-1:111111111111:function:ok-fn',
      memory: '256',
      logGroup: '/aws/lambda/ok-fn',
      env: {
        fn: 'ok-fn',
        table: 'series',
        extra: 'http://127.0.0.1:8000',
        region: 'eu-west-1',
        tz: ':UTC',
        version: '$LATEST',
        leaked: null,
      },
    });
    expect(payload.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.remaining).toBeGreaterThan(0);
    expect(lines).toContainEqual({ fn: 'ok-fn', line: expect.stringMatching(/\tINFO\thello from ok$/) });
    expect(lines).toContainEqual({
      fn: 'ok-fn',
      line: expect.stringMatching(/^REPORT RequestId: .* Init Duration: /),
    });
  });

  it('keeps module scope between invocations on a warm environment', async () => {
    // Prepare
    runtime = start();
    // Act
    const first = await runtime.invoke('Ok', {});
    const second = await runtime.invoke('Ok', {});
    // Assess
    expect(first).toMatchObject({ kind: 'ok', payload: { calls: 1 } });
    expect(second).toMatchObject({ kind: 'ok', payload: { calls: 2 } });
  });

  it('accepts the function name, its ARN, a qualified ARN and the API Gateway integration URI', async () => {
    // Prepare
    runtime = start();
    const arn = 'arn:aws:lambda:eu-west-1:111111111111:function:ok-fn';
    // Act
    const outcomes = await Promise.all(
      [
        'ok-fn',
        arn,
        `${arn}:live`,
        `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${arn}/invocations`,
      ].map((ref) => runtime.invoke(ref, {})),
    );
    // Assess
    expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('isolates environment variables between functions', async () => {
    // Prepare
    runtime = start();
    // Act
    const set = await runtime.invoke('Setter', {});
    const read = await runtime.invoke('Ok', {});
    // Assess
    expect(set).toEqual({ kind: 'ok', payload: 'yes' });
    expect(read).toMatchObject({ kind: 'ok', payload: { env: { leaked: null } } });
    expect(process.env.LEAKED).toBeUndefined();
  });

  it('reports a thrown error with its type and message and keeps the environment warm', async () => {
    // Prepare
    runtime = start();
    // Act
    const failed = await runtime.invoke('Throws', { fail: true });
    const next = await runtime.invoke('Throws', {});
    // Assess
    expect(failed).toEqual({ kind: 'error', errorType: 'ValidationError', errorMessage: 'bad input' });
    expect(next).toEqual({ kind: 'ok', payload: 2 });
  });

  it('kills an invocation that exceeds Timeout and cold-starts a fresh environment next', async () => {
    // Prepare
    runtime = start();
    await runtime.invoke('Slow', {});
    // Act
    const timedOut = await runtime.invoke('Slow', { hang: true });
    const after = await runtime.invoke('Slow', {});
    // Assess
    expect(timedOut).toEqual({ kind: 'timeout' });
    expect(after).toEqual({ kind: 'ok', payload: 1 });
    expect(lines.some((l) => l.line.includes('Task timed out after 1.00 seconds'))).toBe(true);
  });

  it('replaces an environment whose worker crashes', async () => {
    // Prepare
    runtime = start();
    // Act
    const crashed = await runtime.invoke('Crash', { crash: true });
    const after = await runtime.invoke('Crash', {});
    // Assess
    expect(crashed).toMatchObject({ kind: 'error', errorType: 'Runtime.ExitError' });
    expect(after).toEqual({ kind: 'ok', payload: 1 });
  });

  it('starts a second environment when the first is busy', async () => {
    // Prepare
    runtime = start();
    const gate = join(dir, `gate-${Date.now()}-a`);
    // Act
    const both = Promise.all([runtime.invoke('Gate', { gate }), runtime.invoke('Gate', { gate })]);
    writeFileSync(gate, '');
    const [a, b] = await both;
    // Assess
    expect(a.kind).toBe('ok');
    expect(b.kind).toBe('ok');
    expect((a as { payload: number }).payload).not.toBe((b as { payload: number }).payload);
  });

  it('queues invocations once the per-function cap is reached', async () => {
    // Prepare
    runtime = start(1);
    const gate = join(dir, `gate-${Date.now()}-b`);
    // Act
    const both = Promise.all([runtime.invoke('Gate', { gate }), runtime.invoke('Gate', { gate })]);
    writeFileSync(gate, '');
    const [a, b] = await both;
    // Assess
    expect(a).toEqual(b);
  });

  it('settles running and queued invocations when closed', async () => {
    // Prepare
    runtime = start(1);
    const gate = join(dir, `gate-${Date.now()}-never`);
    const both = Promise.all([runtime.invoke('Gate', { gate }), runtime.invoke('Gate', { gate })]);
    // Act
    await runtime.close();
    const [running, queued] = await both;
    // Assess
    expect(running).toMatchObject({ kind: 'error', errorType: 'Runtime.ExitError' });
    expect(queued).toMatchObject({ kind: 'error', errorType: 'ServiceException' });
  });

  it('supports callback-style CommonJS handlers', async () => {
    // Prepare
    runtime = start();
    // Act
    const out = await runtime.invoke('Callback', { n: 21 });
    // Assess
    expect(out).toEqual({ kind: 'ok', payload: { doubled: 42 } });
  });

  it('reports a missing export, module, function or a non-Node runtime as an error outcome', async () => {
    // Prepare
    runtime = start();
    // Act
    const noExport = await runtime.invoke('NoExport', {});
    const missing = await runtime.invoke('Missing', {});
    const unknown = await runtime.invoke('Nope', {});
    const python = await runtime.invoke('Python', {});
    // Assess
    expect(noExport).toMatchObject({ kind: 'error', errorType: 'Runtime.HandlerNotFound' });
    expect(missing).toMatchObject({ kind: 'error', errorType: 'Runtime.ImportModuleError' });
    expect(unknown).toMatchObject({ kind: 'error', errorType: 'ResourceNotFoundException' });
    expect(python).toMatchObject({ kind: 'error', errorType: 'Runtime.InvalidRuntime' });
  });

  it('retries a failing async invocation per the EventInvokeConfig and logs the final failure', async () => {
    // Prepare
    runtime = start();
    const file = join(dir, `attempts-${Date.now()}`);
    // Act
    runtime.invokeAsync('Flaky', { file });
    await runtime.drainAsync();
    // Assess
    expect(existsSync(file) && readFileSync(file, 'utf8')).toBe('x\nx\n');
    expect(lines.some((l) => l.fn === 'Flaky' && /failed after 2 attempt/.test(l.line))).toBe(true);
  });
});
