/**
 * Runs the template's Lambda functions locally, one worker thread per execution environment.
 *
 * Lambda semantics kept: one invocation at a time per environment, module scope survives between
 * invocations on a warm environment, new environments start when all are busy (up to a cap, then
 * invocations queue), Timeout kills the environment, and async invocations are retried.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { CfnTemplate, FunctionInvoker, InvokeOutcome, Resolver } from './types';

/** What the runtime needs to know about one AWS::Lambda::Function. */
export interface LambdaFunctionSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** e.g. `index.handler`. */
  readonly handler: string;
  /** e.g. `nodejs22.x`; only Node.js runtimes run locally. */
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The template's resolved Environment.Variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** Retries of a failed async invocation (AWS::Lambda::EventInvokeConfig, default 2). */
  readonly maximumRetryAttempts: number;
}

export interface LambdaRuntimeOptions {
  readonly template: CfnTemplate;
  readonly resolver: Resolver;
  /** The bundled code directory of a function, e.g. `(id) => functionAssetDir(assembly, id)`. */
  readonly codeDir: (logicalId: string) => string;
  readonly region?: string;
  /** Added to every function's environment last, e.g. AWS_ENDPOINT_URL_DYNAMODB. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Execution environments per function before invocations queue. Default 4. */
  readonly maxConcurrencyPerFunction?: number;
  /** Receives each line a function writes, plus runtime lines (REPORT, timeouts). Default: stderr. */
  readonly log?: (functionName: string, line: string) => void;
  /**
   * Delay before async retry n (1-based). Lambda waits about 1 then 2 minutes; locally the
   * default is 1 s then 2 s so a failing function shows its retries while you watch.
   */
  readonly asyncRetryDelayMs?: (attempt: number) => number;
  /** Where bare imports a bundle cannot resolve (the external AWS SDK) are looked up. Default: cwd. */
  readonly sdkResolveDir?: string;
}

export interface LambdaRuntime extends FunctionInvoker {
  readonly functions: readonly LambdaFunctionSpec[];
  invokeAsync(functionRef: string, event: unknown): void;
  /** The spec a reference names, or undefined. */
  find(functionRef: string): LambdaFunctionSpec | undefined;
  /** Waits for in-flight async invocations (including pending retries) to settle. */
  drainAsync(): Promise<void>;
  /** Terminates every worker and cancels pending retries. */
  close(): Promise<void>;
}

/** Reads the template's AWS::Lambda::Function resources as runtime specs. */
export function lambdaFunctionsOf(template: CfnTemplate, resolver: Resolver): LambdaFunctionSpec[] {
  const retries = new Map<string, number>();
  for (const res of Object.values(template.Resources)) {
    if (res.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const p = res.Properties ?? {};
    if (p.MaximumRetryAttempts === undefined) continue;
    retries.set(resolver.resolveString(p.FunctionName), Number(p.MaximumRetryAttempts));
  }
  const specs: LambdaFunctionSpec[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources)) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const p = res.Properties ?? {};
    const name = resolver.resolveString({ Ref: logicalId });
    const arn = resolver.resolveString({ 'Fn::GetAtt': [logicalId, 'Arn'] });
    const vars = (resolver.resolve((p.Environment as { Variables?: unknown } | undefined)?.Variables) ??
      {}) as Record<string, unknown>;
    const environment = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
    specs.push({
      logicalId,
      name,
      arn,
      handler: p.Handler === undefined ? 'index.handler' : resolver.resolveString(p.Handler),
      runtime: p.Runtime === undefined ? 'nodejs22.x' : resolver.resolveString(p.Runtime),
      timeoutSeconds: p.Timeout === undefined ? 3 : Number(resolver.resolve(p.Timeout)),
      memoryMb: p.MemorySize === undefined ? 128 : Number(resolver.resolve(p.MemorySize)),
      environment,
      maximumRetryAttempts: retries.get(name) ?? retries.get(arn) ?? retries.get(logicalId) ?? 2,
    });
  }
  return specs;
}

/** `index.handler` → the file to import and the export path (`['handler']`). */
function entryOf(codeDir: string, handler: string): { entryFile: string; exportPath: string[] } {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot < 0) throw new Error(`Handler '${handler}' is not in the form file.export`);
  const base = handler.slice(0, dot);
  const exportPath = handler.slice(dot + 1).split('.');
  for (const ext of ['.mjs', '.js', '.cjs']) {
    const entryFile = join(codeDir, `${base}${ext}`);
    if (existsSync(entryFile)) return { entryFile, exportPath };
  }
  throw new Error(`Handler module '${base}' (.mjs, .js or .cjs) not found in ${codeDir}`);
}

const WORKER_URL = new URL('./lambda-worker.mjs', import.meta.url);

type WorkerReply =
  | { type: 'result'; id: number; ok: true; payload?: string; initMs?: number }
  | {
      type: 'result';
      id: number;
      ok: false;
      errorType: string;
      errorMessage: string;
      fatal?: boolean;
      initMs?: number;
    };

/** One execution environment. */
class Environment {
  readonly worker: Worker;
  busy = false;
  private dead = false;
  private pending: { id: number; settle: (reply: WorkerReply | { crashed: string }) => void } | undefined;
  private nextId = 1;

  constructor(
    entry: { entryFile: string; exportPath: string[] },
    env: Record<string, string>,
    sourceMaps: boolean,
    sdkResolveDir: string,
    writeLine: (line: string) => void,
    private readonly onGone: (e: Environment) => void,
  ) {
    this.worker = new Worker(WORKER_URL, {
      env,
      // The parent may run under tsx or vitest loaders; a bundle needs none of them.
      execArgv: [],
      stdout: true,
      stderr: true,
      workerData: { ...entry, sourceMaps, fallbackResolveDir: sdkResolveDir },
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', writeLine);
    }
    this.worker.on('message', (reply: WorkerReply) => {
      if (this.pending?.id === reply.id) {
        const { settle } = this.pending;
        this.pending = undefined;
        settle(reply);
      }
    });
    this.worker.on('error', (err) => this.gone(`${err.name}: ${err.message}`));
    this.worker.on('exit', (code) => this.gone(`worker exited with code ${code}`));
  }

  private gone(reason: string): void {
    if (this.pending) {
      const { settle } = this.pending;
      this.pending = undefined;
      settle({ crashed: reason });
    }
    if (!this.dead) {
      this.dead = true;
      this.onGone(this);
    }
  }

  run(event: unknown, context: Record<string, unknown>): Promise<WorkerReply | { crashed: string }> {
    if (this.dead) return Promise.resolve({ crashed: 'the environment was shut down' });
    const id = this.nextId++;
    return new Promise((settle) => {
      this.pending = { id, settle };
      this.worker.postMessage({ type: 'invoke', id, event, context });
    });
  }

  async kill(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

/** Per-function pool of environments with a queue once the cap is reached. */
class FunctionPool {
  private readonly envs: Environment[] = [];
  /** Invocations waiting for an environment; they get undefined once the pool is closed. */
  private readonly waiters: Array<(env: Environment | undefined) => void> = [];
  private closed = false;
  private readonly entry: { entryFile: string; exportPath: string[] };
  private readonly env: Record<string, string>;

  constructor(
    readonly spec: LambdaFunctionSpec,
    codeDir: string,
    private readonly opts: {
      region: string;
      extraEnv: Readonly<Record<string, string>>;
      cap: number;
      sdkResolveDir: string;
      log: (functionName: string, line: string) => void;
    },
  ) {
    this.entry = entryOf(codeDir, spec.handler);
    this.env = {
      // Lambda's own variables first; the template's variables and the local endpoints win.
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_REGION: opts.region,
      AWS_DEFAULT_REGION: opts.region,
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      LAMBDA_TASK_ROOT: codeDir,
      LAMBDA_RUNTIME_DIR: codeDir,
      ...spec.environment,
      ...opts.extraEnv,
    };
  }

  get sourceMaps(): boolean {
    return [this.env.NODE_OPTIONS, process.env.NODE_OPTIONS].some((o) => o?.includes('--enable-source-maps'));
  }

  acquire(): Promise<Environment | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const idle = this.envs.find((e) => !e.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (this.envs.length < this.opts.cap) {
      const env = new Environment(
        this.entry,
        this.env,
        this.sourceMaps,
        this.opts.sdkResolveDir,
        (line) => this.opts.log(this.spec.name, line),
        (gone) => this.remove(gone),
      );
      env.busy = true;
      this.envs.push(env);
      return Promise.resolve(env);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(env: Environment): void {
    const next = this.waiters.shift();
    if (next) {
      next(env);
      return;
    }
    env.busy = false;
  }

  /** Drops a dead environment; a queued invocation gets a fresh one. */
  async discard(env: Environment): Promise<void> {
    this.remove(env);
    await env.kill();
    const next = this.waiters.shift();
    if (next) void this.acquire().then(next, () => next(undefined));
  }

  private remove(env: Environment): void {
    const i = this.envs.indexOf(env);
    if (i >= 0) this.envs.splice(i, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    const all = this.envs.splice(0);
    await Promise.all(all.map((e) => e.kill()));
  }
}

/** Starts nothing until the first invocation: each function's first call is its cold start. */
export function createLambdaRuntime(opts: LambdaRuntimeOptions): LambdaRuntime {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const functions = lambdaFunctionsOf(opts.template, opts.resolver);
  const log =
    opts.log ??
    ((name: string, line: string) => {
      process.stderr.write(`[${name}] ${line}\n`);
    });
  const retryDelay = opts.asyncRetryDelayMs ?? ((attempt: number) => attempt * 1000);
  const pools = new Map<string, FunctionPool>();
  const byRef = new Map<string, LambdaFunctionSpec>();
  for (const f of functions) for (const key of [f.logicalId, f.name, f.arn]) byRef.set(key, f);
  const inFlight = new Set<Promise<void>>();
  // Pending retry delays; close() ends them early so drainAsync() never hangs.
  const retryTimers = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  function find(functionRef: string): LambdaFunctionSpec | undefined {
    const direct = byRef.get(functionRef);
    if (direct) return direct;
    const integration = /\/functions\/(.+)\/invocations$/.exec(functionRef);
    if (integration?.[1]) return find(integration[1]);
    // A qualified ARN (…:function:name:alias) names the same local function.
    const qualified = /^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+):[^:]+$/.exec(functionRef);
    if (qualified?.[1]) return byRef.get(qualified[1]);
    return undefined;
  }

  function poolOf(spec: LambdaFunctionSpec): FunctionPool {
    let pool = pools.get(spec.logicalId);
    if (!pool) {
      pool = new FunctionPool(spec, opts.codeDir(spec.logicalId), {
        region,
        extraEnv: opts.extraEnv ?? {},
        cap: opts.maxConcurrencyPerFunction ?? 4,
        sdkResolveDir: opts.sdkResolveDir ?? process.cwd(),
        log,
      });
      pools.set(spec.logicalId, pool);
    }
    return pool;
  }

  async function invoke(functionRef: string, event: unknown): Promise<InvokeOutcome> {
    const spec = find(functionRef);
    if (!spec) {
      return {
        kind: 'error',
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${functionRef}`,
      };
    }
    if (closed) {
      return { kind: 'error', errorType: 'ServiceException', errorMessage: 'The local runtime is closed' };
    }
    if (!spec.runtime.startsWith('nodejs')) {
      // e.g. CDK's BucketDeployment handler (Python): deploy-time plumbing with no local role.
      return {
        kind: 'error',
        errorType: 'Runtime.InvalidRuntime',
        errorMessage: `${spec.name} uses ${spec.runtime}; the local runtime runs Node.js functions only`,
      };
    }
    let pool: FunctionPool;
    try {
      pool = poolOf(spec);
    } catch (err) {
      return { kind: 'error', errorType: 'Runtime.ImportModuleError', errorMessage: (err as Error).message };
    }
    let env: Environment | undefined;
    try {
      env = await pool.acquire();
    } catch (err) {
      return { kind: 'error', errorType: 'Runtime.StartError', errorMessage: (err as Error).message };
    }
    if (!env)
      return { kind: 'error', errorType: 'ServiceException', errorMessage: 'The local runtime is closed' };
    const awsRequestId = randomUUID();
    const started = performance.now();
    const timeoutMs = spec.timeoutSeconds * 1000;
    const context = {
      functionName: spec.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: spec.arn,
      memoryLimitInMB: String(spec.memoryMb),
      awsRequestId,
      logGroupName: `/aws/lambda/${spec.name}`,
      logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${env.worker.threadId}`,
      deadlineMs: Date.now() + timeoutMs,
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const reply = await Promise.race([env.run(event, context), timedOut]);
    clearTimeout(timer);
    const ms = (performance.now() - started).toFixed(2);

    if (reply === 'timeout') {
      log(
        spec.name,
        `${new Date().toISOString()} ${awsRequestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`,
      );
      await pool.discard(env);
      return { kind: 'timeout' };
    }
    if ('crashed' in reply) {
      log(spec.name, `RequestId: ${awsRequestId} Error: Runtime exited (${reply.crashed})`);
      await pool.discard(env);
      return {
        kind: 'error',
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${awsRequestId} Error: Runtime exited`,
      };
    }
    const init = reply.initMs === undefined ? '' : ` Init Duration: ${reply.initMs.toFixed(2)} ms`;
    log(
      spec.name,
      `REPORT RequestId: ${awsRequestId} Duration: ${ms} ms Memory Size: ${spec.memoryMb} MB${init}`,
    );
    if (!reply.ok) {
      // Init failures leave no usable environment: Lambda re-runs init on the next invocation.
      if (reply.fatal) await pool.discard(env);
      else pool.release(env);
      return { kind: 'error', errorType: reply.errorType, errorMessage: reply.errorMessage };
    }
    pool.release(env);
    return { kind: 'ok', payload: reply.payload === undefined ? null : JSON.parse(reply.payload) };
  }

  async function invokeWithRetries(functionRef: string, event: unknown): Promise<void> {
    const spec = find(functionRef);
    const maxRetries = spec?.maximumRetryAttempts ?? 0;
    const name = spec?.name ?? functionRef;
    for (let attempt = 0; ; attempt++) {
      const outcome = await invoke(functionRef, event);
      if (outcome.kind === 'ok' || closed) return;
      const why = outcome.kind === 'timeout' ? 'timed out' : `${outcome.errorType}: ${outcome.errorMessage}`;
      if (!spec || attempt >= maxRetries) {
        log(name, `Async invocation failed after ${attempt + 1} attempt(s), event dropped (${why})`);
        return;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(
          () => {
            retryTimers.delete(t);
            resolve();
          },
          retryDelay(attempt + 1),
        );
        retryTimers.set(t, resolve);
      });
      if (closed) return;
    }
  }

  return {
    functions,
    find,
    invoke,
    invokeAsync(functionRef, event) {
      const p = invokeWithRetries(functionRef, event).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async drainAsync() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    async close() {
      closed = true;
      for (const [t, wake] of retryTimers) {
        clearTimeout(t);
        wake();
      }
      retryTimers.clear();
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}
