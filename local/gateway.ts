/**
 * The local API Gateway: one node:http server carrying the WebSocket API (`/ws`), its `@connections`
 * management API (`/ws/@connections/*`), every HTTP API route of the template and, for any other
 * GET, the dashboard as the template deploys it.
 *
 * Routes with AuthorizationType CUSTOM run the template's Lambda authorizers (HTTP routes and the
 * WebSocket `$connect`) with API Gateway's identity source checks, result caching and
 * `requestContext.authorizer`; see ./authorizers.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { handleConnectionsRequest, isConnectionsRequest } from './connections-api';
import { HttpApiGateway, type HttpLimits, readApis } from './http-gateway';
import { loadStaticSite } from './static-site';
import type { FunctionInvoker, Resolver, StackAssembly } from './types';
import { WebSocketGateway, type WebSocketLimits } from './websocket-gateway';

/** API Gateway quotas the local gateway enforces; tests shrink them. */
export type GatewayLimits = HttpLimits & WebSocketLimits;

/** API Gateway's documented values. */
export const DEFAULT_LIMITS: GatewayLimits = {
  integrationTimeoutMs: 29_000,
  maxRequestBodyBytes: 10 * 1024 * 1024,
  maxMessageBytes: 128 * 1024,
  idleTimeoutMs: 10 * 60_000,
  maxConnectionLifeMs: 2 * 60 * 60_000,
};

/** Where the WebSocket API and its management API live on the local port. */
export const WEBSOCKET_PATH = '/ws';

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly assembly: StackAssembly;
  readonly resolver: Resolver;
  readonly invoker: FunctionInvoker;
  readonly limits?: Partial<GatewayLimits>;
  /** One-line runtime messages (unsupported features, failed `$disconnect`s); default console.error. */
  readonly log?: (message: string) => void;
  /** Clock (epoch ms) of the HTTP authorizer result cache; default Date.now. Tests pass their own. */
  readonly now?: () => number;
}

/** A running gateway. */
export interface RunningGateway {
  readonly port: number;
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
  /** Closes every socket and connection and waits for them. */
  close(): Promise<void>;
}

/** Starts the local gateway for the stack's APIs and dashboard. */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((message: string) => console.error(message));
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { template } = opts.assembly;
  const accountId = opts.resolver.resolveString({ Ref: 'AWS::AccountId' });
  const region = opts.resolver.resolveString({ Ref: 'AWS::Region' });

  const http = new HttpApiGateway({
    apis: readApis(template, opts.resolver, 'HTTP'),
    invoker: opts.invoker,
    accountId,
    region,
    limits,
    log,
    now: opts.now,
  });
  const [wsApi, ...otherWsApis] = readApis(template, opts.resolver, 'WEBSOCKET');
  for (const extra of otherWsApis) {
    log(
      `Local gateway: WebSocket API ${extra.logicalId} is not served; only the first (${wsApi?.logicalId}) is, at ${WEBSOCKET_PATH}`,
    );
  }
  const ws = wsApi
    ? new WebSocketGateway({ api: wsApi, invoker: opts.invoker, limits, log, region, accountId })
    : undefined;
  const site = loadStaticSite({ assembly: opts.assembly, resolver: opts.resolver, log });

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    if (ws && isConnectionsRequest(req, WEBSOCKET_PATH)) {
      await handleConnectionsRequest(req, res, {
        connections: ws,
        basePath: WEBSOCKET_PATH,
        maxMessageBytes: limits.maxMessageBytes,
      });
    } else if (http.canHandle(req) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      await http.handle(req, res);
    } else {
      site.handle(req, res);
    }
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log(
        `Local gateway: ${req.method} ${req.url} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"message":"Internal Server Error"}');
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (ws && path === WEBSOCKET_PATH) {
      ws.handleUpgrade(req, socket, head);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${opts.port} is in use; pass --port <n>`)
          : new Error(`Cannot listen on ${host}:${opts.port}: ${err.message}`, { cause: err }),
      );
    };
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ws?.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
