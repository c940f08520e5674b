import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startAgent } from '../agent/agent';
import { functionAssetDir, loadStackAssembly } from './assembly';
import { type AdminCredentials, authFunctionRef, bootstrapAdmin, bootstrapAgentKey } from './bootstrap';
import { createTablesFromTemplate, type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { startEventSourceMappings } from './event-source-mappings';
import { type LocalEventBridge, startEventBridge } from './eventbridge';
import { type GatewayLimits, type RunningGateway, startGateway, WEBSOCKET_PATH } from './gateway';
import { startHttpSubscriptions } from './http-subscriptions';
import { createResolver } from './intrinsics';
import { createLambdaRuntime, type LambdaRuntime } from './lambda-runtime';
import { startNotificationConsole } from './notification-console';
import { freePort } from './ports';
import { type LocalSecretsManager, startSecretsManager } from './secrets-manager';
import { type LocalSns, provisionMessaging, startSns } from './sns';
import { PROJECT_ROOT } from './synth';
import type { LocalEndpoints, Resolver } from './types';

export const LOCAL_REGION = 'us-east-1';

export interface LocalRuntimeOptions {
  /** The synthesized cloud assembly (cdk.out) to serve. */
  readonly assemblyDir: string;
  /** The one port for the dashboard, the HTTP API and the WebSocket API (`/ws`); 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /**
   * Persist DynamoDB (`<dataDir>/dynamodb`) and the template's secrets (`<dataDir>/secrets.json`,
   * generated once) here; in memory, for this run only, when unset.
   */
  readonly dataDir?: string;
  /**
   * Use DynamoDB and SNS/SQS at these endpoints (LocalStack's, say) instead of starting DynamoDB
   * Local and fauxqs. Defaults to `PULSEBOARD_ENGINES` (one URL for both) when that is set.
   * Secrets Manager stays local either way (LocalStack's free tier has none).
   */
  readonly engines?: ExternalEngines;
  /** Push this machine's metrics through the HTTP API (default on). */
  readonly agent?: boolean | { readonly intervalMs: number };
  /** Write the stack outputs here in `cdk deploy --outputs-file` shape. */
  readonly outputsFile?: string;
  readonly limits?: Partial<GatewayLimits>;
  /**
   * Print one line per SNS notification of the template's topics through `log` (default on): a
   * local queue subscribed to every topic stands in for the e-mail, chat or pager subscriber.
   */
  readonly notificationConsole?: boolean;
  /** The `admin` user's password; default PULSEBOARD_ADMIN_PASSWORD, else generated (see `admin`). */
  readonly adminPassword?: string;
  /** Runtime messages (one line each). */
  readonly log?: (line: string) => void;
  /** Each line a function logs. */
  readonly functionLog?: (functionName: string, line: string) => void;
}

export interface ExternalEngines {
  readonly dynamodb: string;
  /** One endpoint serving both SNS and SQS, as LocalStack and fauxqs do. */
  readonly messaging: string;
}

/** `PULSEBOARD_ENGINES=http://localhost:4566` points every engine at one AWS-compatible endpoint. */
export function enginesFromEnv(env: NodeJS.ProcessEnv = process.env): ExternalEngines | undefined {
  const url = env.PULSEBOARD_ENGINES;
  return url ? { dynamodb: url, messaging: url } : undefined;
}

/** The URLs `cdk deploy` would output, served locally. */
export interface StackUrls {
  readonly HttpApiUrl: string;
  readonly WebSocketUrl: string;
  readonly DashboardUrl: string;
}

export interface LocalRuntime {
  readonly stackName: string;
  readonly urls: StackUrls;
  /** The engines' endpoints, for tests and tools that talk to them directly (SDK clients). */
  readonly engines: {
    readonly dynamodb: string;
    readonly sns: string;
    readonly eventBridge: string;
    readonly secretsManager: string;
  };
  readonly lambda: LambdaRuntime;
  /** Resolves template values to their local form (table names, queue URLs, …). */
  readonly resolver: Resolver;
  /** The first admin, created at start when the stack has authentication. */
  readonly admin?: AdminCredentials;
  stop(): Promise<void>;
}

/**
 * Starts the whole stack on this machine from its synthesized template: DynamoDB Local, fauxqs for
 * SNS/SQS, the local EventBridge router, the local Secrets Manager, the bundled functions in worker
 * threads, and one gateway for the APIs (with their Lambda authorizers) and the dashboard.
 * Everything started is stopped again if a later step fails.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? ((line: string) => console.error(line));
  const assembly = loadStackAssembly(options.assemblyDir);
  const { template, stackName } = assembly;
  const host = options.host ?? '127.0.0.1';
  const port = options.port === undefined ? 3000 : options.port === 0 ? await freePort() : options.port;
  const httpBase = `http://${host}:${port}`;
  const endpoints: LocalEndpoints = {
    httpBase,
    webSocketUrl: `ws://${host}:${port}${WEBSOCKET_PATH}`,
    connectionsBase: `${httpBase}${WEBSOCKET_PATH}`,
  };

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse().splice(0)) {
      await stop().catch((error: unknown) => log(`stopping: ${(error as Error).message}`));
    }
  };

  try {
    const namingResolver = createResolver({ template, stackName, region: LOCAL_REGION });
    const external = options.engines ?? enginesFromEnv();
    const messagingOptions = { template, resolver: namingResolver, region: LOCAL_REGION, log };
    const [dynamodb, sns]: [DynamoDbLocal, LocalSns] = external
      ? [
          { endpoint: external.dynamodb, stop: async () => {} },
          await provisionMessaging({ ...messagingOptions, endpoint: external.messaging }),
        ]
      : await Promise.all([
          startDynamoDbLocal({
            dataDir: options.dataDir ? path.join(options.dataDir, 'dynamodb') : undefined,
          }),
          startSns(messagingOptions),
        ]);
    stoppers.push(dynamodb.stop, sns.stop);

    // Final values: queue URLs as fauxqs made them, and AWS endpoint URLs mapped to this machine.
    const resolver = createResolver({
      template,
      stackName,
      region: LOCAL_REGION,
      endpoints,
      overrides: { ...sns.overrides },
    });
    await createTablesFromTemplate(dynamodb.endpoint, template, resolver);

    // Always local, also with external engines: secret ARNs are the resolver's, as in functions' env.
    const secretsManager: LocalSecretsManager = await startSecretsManager({
      template,
      resolver,
      dataDir: options.dataDir,
      log,
    });
    stoppers.push(secretsManager.stop);

    // The router invokes targets through the Lambda runtime, which is created next with the
    // router's endpoint in its environment; the late-bound invoker breaks that cycle.
    let lambda: LambdaRuntime | undefined;
    const eventBridge: LocalEventBridge = await startEventBridge({
      template,
      resolver,
      invoker: {
        invoke: (ref, event) => (lambda as LambdaRuntime).invoke(ref, event),
        invokeAsync: (ref, event) => (lambda as LambdaRuntime).invokeAsync(ref, event),
      },
      region: LOCAL_REGION,
      sqsSend: (queueArn, body, attributes) => sns.sendToQueue(queueArn, body, attributes),
      log,
    });
    stoppers.push(eventBridge.stop);

    lambda = createLambdaRuntime({
      template,
      resolver,
      region: LOCAL_REGION,
      codeDir: (logicalId) => functionAssetDir(assembly, logicalId),
      sdkResolveDir: PROJECT_ROOT,
      // Handlers reach every engine through the SDK's own endpoint variables; no handler branches.
      extraEnv: {
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
        AWS_ENDPOINT_URL_SNS: sns.endpoint,
        AWS_ENDPOINT_URL_SQS: sns.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      },
      log: options.functionLog,
    });
    const runtime = lambda;
    stoppers.push(() => runtime.close());

    // SQS event source mappings poll the engine's queues and invoke through the Lambda runtime;
    // they stop before it does (stoppers run in reverse).
    const eventSourceMappings = startEventSourceMappings({
      template,
      resolver,
      invoker: lambda,
      endpoint: sns.endpoint,
      queueUrls: sns.queueUrls,
      region: LOCAL_REGION,
      log,
    });
    stoppers.push(eventSourceMappings.stop);

    if (options.notificationConsole !== false) {
      const notifications = await startNotificationConsole({
        template,
        resolver,
        endpoint: sns.endpoint,
        region: LOCAL_REGION,
        log,
      });
      stoppers.push(notifications.stop);
    }

    // fauxqs delivers only to SQS: HTTP/S subscriptions (alertmanager.yml webhooks) are POSTed from here.
    const httpSubscriptions = await startHttpSubscriptions({
      template,
      resolver,
      endpoint: sns.endpoint,
      region: LOCAL_REGION,
      log,
      sendToQueue: (queueArn, body, attributes) => sns.sendToQueue(queueArn, body, attributes),
    });
    stoppers.push(httpSubscriptions.stop);

    const gateway: RunningGateway = await startGateway({
      port,
      host,
      assembly,
      resolver,
      invoker: lambda,
      limits: options.limits,
      log,
    });
    stoppers.push(gateway.close);

    const urls = stackUrls(resolver.resolve(template.Outputs ?? {}) as Record<string, { Value: string }>);
    if (options.outputsFile) {
      writeFileSync(options.outputsFile, `${JSON.stringify({ [stackName]: urls }, null, 2)}\n`);
    }

    const authFunction = authFunctionRef(template, resolver);
    const admin = authFunction
      ? await bootstrapAdmin(
          lambda,
          authFunction,
          options.adminPassword ?? process.env.PULSEBOARD_ADMIN_PASSWORD,
        )
      : undefined;

    if (options.agent !== false) {
      const token = authFunction ? await bootstrapAgentKey(lambda, authFunction) : undefined;
      const intervalMs = typeof options.agent === 'object' ? options.agent.intervalMs : 2000;
      // With --data the agent's buffer survives restarts next to the data; otherwise it lives for this run only.
      const spoolDir = options.dataDir
        ? path.join(options.dataDir, 'agent-spool')
        : await mkdtemp(path.join(os.tmpdir(), 'pulseboard-agent-'));
      if (!options.dataDir) stoppers.push(() => rm(spoolDir, { recursive: true, force: true }));
      const agent = await startAgent({
        url: urls.HttpApiUrl,
        token,
        intervalMs,
        log,
        spoolDir,
        stopTimeoutMs: 1000,
      });
      stoppers.push(() => agent.stop());
    }

    return {
      stackName,
      urls,
      engines: {
        dynamodb: dynamodb.endpoint,
        sns: sns.endpoint,
        eventBridge: eventBridge.endpoint,
        secretsManager: secretsManager.endpoint,
      },
      lambda,
      resolver,
      ...(admin ? { admin } : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function stackUrls(outputs: Record<string, { Value: string }>): StackUrls {
  const value = (name: keyof StackUrls) => {
    const found = outputs[name]?.Value;
    if (typeof found !== 'string') throw new Error(`The template has no ${name} output`);
    return found;
  };
  return {
    HttpApiUrl: value('HttpApiUrl'),
    WebSocketUrl: value('WebSocketUrl'),
    DashboardUrl: value('DashboardUrl'),
  };
}
