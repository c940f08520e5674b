/**
 * Shared helpers of the gateway tests: small inline templates, a recording fake FunctionInvoker,
 * a gateway started on a free port, a plain HTTP client and bounded polling.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { type GatewayLimits, type RunningGateway, startGateway } from '../../../local/gateway';
import { createResolver } from '../../../local/intrinsics';
import type {
  CfnResource,
  CfnTemplate,
  FunctionInvoker,
  InvokeOutcome,
  StackAssembly,
} from '../../../local/types';

/** A route of a test template: its key, the function behind it, and route options. */
export interface RouteSpec {
  readonly key: string;
  readonly fn: string;
  readonly authorizationType?: string;
  readonly returnResponse?: boolean;
  readonly timeoutInMillis?: number;
}

function functionResource(): CfnResource {
  return { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' } };
}

/** Resources of an Api, its routes, integrations (CDK's shapes) and functions. */
function apiResources(
  apiId: string,
  props: Record<string, unknown>,
  routes: readonly RouteSpec[],
  uri: (fn: string) => unknown,
): Record<string, CfnResource> {
  const resources: Record<string, CfnResource> = {
    [apiId]: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: apiId, ...props } },
  };
  routes.forEach((route, i) => {
    resources[route.fn] = functionResource();
    resources[`${apiId}Integration${i}`] = {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: {
        ApiId: { Ref: apiId },
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: uri(route.fn),
        ...(props.ProtocolType === 'HTTP' ? { PayloadFormatVersion: '2.0' } : {}),
        ...(route.timeoutInMillis !== undefined ? { TimeoutInMillis: route.timeoutInMillis } : {}),
      },
    };
    resources[`${apiId}Route${i}`] = {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: apiId },
        RouteKey: route.key,
        AuthorizationType: route.authorizationType ?? 'NONE',
        ...(route.returnResponse ? { RouteResponseSelectionExpression: '$default' } : {}),
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: `${apiId}Integration${i}` }]] },
      },
    };
  });
  return resources;
}

/** An HTTP API (logical id 'HttpApi') as CDK's HttpApi synthesizes it. */
export function httpApiResources(
  routes: readonly RouteSpec[],
  cors?: Record<string, unknown>,
): Record<string, CfnResource> {
  return {
    ...apiResources(
      'HttpApi',
      { ProtocolType: 'HTTP', ...(cors ? { CorsConfiguration: cors } : {}) },
      routes,
      (fn) => ({
        'Fn::GetAtt': [fn, 'Arn'],
      }),
    ),
    HttpApiDefaultStage: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { ApiId: { Ref: 'HttpApi' }, StageName: '$default', AutoDeploy: true },
    },
  };
}

/** A WebSocket API (logical id 'WsApi', stage 'live') as CDK's WebSocketApi synthesizes it. */
export function webSocketApiResources(routes: readonly RouteSpec[]): Record<string, CfnResource> {
  return {
    ...apiResources(
      'WsApi',
      { ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' },
      routes,
      (fn) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':apigateway:us-east-1:lambda:path/2015-03-31/functions/',
            { 'Fn::GetAtt': [fn, 'Arn'] },
            '/invocations',
          ],
        ],
      }),
    ),
    WsStage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: { Ref: 'WsApi' }, StageName: 'live' } },
  };
}

/** The function name in any reference the invoker may get (ARN or `…/functions/<arn>/invocations`). */
export function functionName(functionRef: string): string {
  const m = /function:([^/:]+)/.exec(functionRef);
  return m ? (m[1] as string) : functionRef;
}

/** One recorded invocation. */
export interface Invocation {
  readonly fn: string;
  // biome-ignore lint/suspicious/noExplicitAny: events are asserted field by field
  readonly event: any;
}

/** What a fake function answers: an outcome, or a promise of one. */
// biome-ignore lint/suspicious/noExplicitAny: tests read events freely
export type FakeFunction = (event: any) => InvokeOutcome | Promise<InvokeOutcome>;

/** A FunctionInvoker whose functions are test closures; records every call. */
export class FakeInvoker implements FunctionInvoker {
  readonly calls: Invocation[] = [];
  readonly #functions: Record<string, FakeFunction>;

  constructor(functions: Record<string, FakeFunction>) {
    this.#functions = functions;
  }

  async invoke(functionRef: string, event: unknown): Promise<InvokeOutcome> {
    const fn = functionName(functionRef);
    this.calls.push({ fn, event });
    const impl = this.#functions[fn];
    if (!impl) return { kind: 'error', errorType: 'Error', errorMessage: `no fake for ${fn}` };
    return impl(event);
  }

  /** Calls of one function. */
  of(fn: string): Invocation[] {
    return this.calls.filter((c) => c.fn === fn);
  }
}

/** An ok outcome. */
export const ok = (payload: unknown): InvokeOutcome => ({ kind: 'ok', payload });

/** A StackAssembly over an inline template; `assets` maps asset hashes to directories. */
export function inlineAssembly(template: CfnTemplate, assets: Record<string, string> = {}): StackAssembly {
  return {
    stackName: 'TestStack',
    assemblyDir: '/nonexistent',
    template,
    assetDir(hash) {
      const dir = assets[hash];
      if (!dir) throw new Error(`no asset ${hash}`);
      return dir;
    },
  };
}

/** Local endpoints the resolver rewrites API URLs to (their port is not the test server's). */
export const TEST_ENDPOINTS = {
  httpBase: 'http://127.0.0.1:3999',
  webSocketUrl: 'ws://127.0.0.1:3999/ws',
  connectionsBase: 'http://127.0.0.1:3999/ws',
};

/** Starts a gateway on a free port over the template, with the real resolver. */
export async function startTestGateway(
  template: CfnTemplate,
  invoker: FunctionInvoker,
  opts: { limits?: Partial<GatewayLimits>; assets?: Record<string, string>; log?: (m: string) => void } = {},
): Promise<RunningGateway> {
  const resolver = createResolver({ template, stackName: 'TestStack', endpoints: TEST_ENDPOINTS });
  return startGateway({
    port: 0,
    assembly: inlineAssembly(template, opts.assets),
    resolver,
    invoker,
    limits: opts.limits,
    log: opts.log ?? (() => {}),
  });
}

/** A plain HTTP response. */
export interface PlainResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request with node:http (so repeated headers stay separate lines). */
export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Polls until `check` stops throwing, for at most `timeoutMs`; rethrows its last error. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** A promise with its resolve function, for functions that answer when a test says so. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
