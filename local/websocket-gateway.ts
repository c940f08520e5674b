/**
 * The WebSocket API side of the local gateway: one `AWS::ApiGatewayV2::Api` with ProtocolType
 * WEBSOCKET, served on upgrade. It runs `$connect` before the handshake completes, selects routes
 * with the Api's RouteSelectionExpression, sends route responses, enforces API Gateway's quotas
 * (message size, idle time, connection life, integration timeout) and invokes `$disconnect`.
 *
 * A `$connect` route with AuthorizationType CUSTOM runs its Lambda authorizer first (see
 * ./authorizers.ts): 401/403/500 refuse the handshake; on Allow, `$connect` and every later event
 * of the connection carry `requestContext.authorizer`. A `Sec-WebSocket-Protocol` header in the
 * `$connect` response is echoed in the handshake; without one the upgrade completes without it, as
 * on AWS.
 */

import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { authorizeWebSocketConnect, type WebSocketConnectAuthorization } from './authorizers';
import type { ConnectionLookup, LiveConnection } from './connections-api';
import {
  type ApiDefinition,
  type ApiRoute,
  apiGatewayId,
  integrationTimeout,
  invokeWithTimeout,
  requestTime,
  sourceIpOf,
  traceId,
} from './http-gateway';
import type { FunctionInvoker, InvokeOutcome } from './types';

/** Quotas of the WebSocket side (API Gateway's values by default). */
export interface WebSocketLimits {
  /** Integration timeout: 29 s. */
  readonly integrationTimeoutMs: number;
  /** Inbound message and PostToConnection payload quota: 128 KB. */
  readonly maxMessageBytes: number;
  /** Idle connection timeout: 10 min. */
  readonly idleTimeoutMs: number;
  /** Maximum connection duration: 2 h. */
  readonly maxConnectionLifeMs: number;
}

/** Options of {@link WebSocketGateway}. */
export interface WebSocketGatewayOptions {
  readonly api: ApiDefinition;
  readonly invoker: FunctionInvoker;
  readonly limits: WebSocketLimits;
  readonly log: (message: string) => void;
  /** Region and account of the authorizer's methodArn; default us-east-1 and 000000000000. */
  readonly region?: string;
  readonly accountId?: string;
}

/** How long a closing connection may take to answer the close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** API Gateway's message to the client when a route cannot be served. */
function gatewayMessage(message: string, connectionId: string, requestId: string): string {
  // The exact spacing of API Gateway's own message.
  return `{"message": "${message}", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

/**
 * Evaluates a route selection expression such as `$request.body.action` against a message.
 * Non-JSON bodies, missing keys and non-scalar values select nothing.
 */
export function selectRouteKey(expression: string | undefined, body: string): string | undefined {
  const m = /^\$\{?request\.body\.([^}]+)\}?$/.exec(expression ?? '');
  if (!m) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const key of (m[1] as string).split('.')) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

/** One open connection. */
class Connection implements LiveConnection {
  lastActiveAt: Date;
  /** Set when the gateway closes the socket, so `$disconnect` reports the gateway's reason. */
  serverClose: { code: number; reason: string } | undefined;
  /** What the `$connect` authorizer allowed with: every event's `requestContext.authorizer`. */
  authorizer: Record<string, unknown> | undefined;
  readonly closed: Promise<void>;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(
    readonly connectionId: string,
    readonly ws: WebSocket,
    readonly connectedAt: Date,
    readonly sourceIp: string,
    readonly userAgent: string,
    readonly domainName: string,
  ) {
    this.lastActiveAt = connectedAt;
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  /** Starts a timer that is cleared when the connection closes. */
  timer(ms: number, onFire: () => void): NodeJS.Timeout {
    const t = setTimeout(onFire, ms);
    this.#timers.push(t);
    return t;
  }

  clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
  }

  send(data: Buffer): Promise<boolean> {
    if (this.ws.readyState !== this.ws.OPEN) return Promise.resolve(false);
    this.lastActiveAt = new Date();
    return new Promise((resolve) => {
      this.ws.send(data, { binary: !isUtf8(data) }, (err) => resolve(!err));
    });
  }

  sendText(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  close(code = 1000, reason = ''): void {
    if (this.serverClose || this.ws.readyState >= this.ws.CLOSING) return;
    this.serverClose = { code, reason };
    this.ws.close(code, reason);
    // A client that never answers the close frame is cut, as API Gateway would.
    this.timer(CLOSE_GRACE_MS, () => this.ws.terminate());
  }
}

/** Serves one WebSocket API: upgrades, routes, quotas and the connection registry. */
export class WebSocketGateway implements ConnectionLookup {
  readonly #opts: WebSocketGatewayOptions;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<string, Connection>();
  /** Sockets waiting for `$connect` to answer. */
  readonly #pending = new Set<Duplex>();
  /** Subprotocols chosen by `$connect` responses, handed to ws during the handshake. */
  readonly #protocols = new WeakMap<IncomingMessage, string>();
  readonly #disconnects = new Set<Promise<void>>();
  readonly #reported = new Set<string>();
  #closing = false;

  constructor(opts: WebSocketGatewayOptions) {
    this.#opts = opts;
    this.#wss = new WebSocketServer({
      noServer: true,
      // Oversized messages are closed with API Gateway's reason below; ws's own cap only bounds memory.
      maxPayload: Math.max(opts.limits.maxMessageBytes * 2, opts.limits.maxMessageBytes + 65_536),
      handleProtocols: (_offered, req) => this.#protocols.get(req) ?? false,
    });
  }

  /** The Api this gateway serves. */
  get api(): ApiDefinition {
    return this.#opts.api;
  }

  /** An open connection (never one still in `$connect`). */
  get(connectionId: string): LiveConnection | undefined {
    return this.#connections.get(connectionId);
  }

  /** Takes over an HTTP upgrade request: runs `$connect`, then completes or rejects the handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {
      // A client vanishing mid-handshake is not the gateway's error.
    });
    this.#upgrade(req, socket, head).catch((err: unknown) => {
      this.#opts.log(
        `Local WebSocket API: upgrade failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      reject(socket, 500);
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.#closing) return reject(socket, 503);
    if (
      req.headers.upgrade?.toLowerCase() !== 'websocket' ||
      !req.headers['sec-websocket-key'] ||
      req.headers['sec-websocket-version'] !== '13'
    ) {
      return reject(socket, 400);
    }
    const connectionId = apiGatewayId();
    const connectedAt = Date.now();
    const route = this.#route('$connect');
    let authorizer: Record<string, unknown> | undefined;
    if (route) {
      this.#pending.add(socket);
      let outcome: InvokeOutcome | 'unsupported' | { denied: number };
      try {
        const event = this.#connectEvent(req, connectionId, connectedAt);
        const auth = await this.#authorize(route, event);
        if (auth.kind === 'allow') {
          authorizer = auth.authorizer;
          const authorized = authorizer
            ? { ...event, requestContext: { ...event.requestContext, authorizer } }
            : event;
          outcome = await this.#invoke(route, authorized);
        } else if (auth.kind === 'deny') {
          outcome = { denied: auth.statusCode };
        } else {
          this.#reportOnce(
            route.logicalId,
            `Local WebSocket API: unsupported ${auth.feature}; refusing connections with 500`,
          );
          outcome = 'unsupported';
        }
      } finally {
        this.#pending.delete(socket);
      }
      // The client gave up while $connect ran: there is no connection, hence no $disconnect.
      if (socket.destroyed || this.#closing) return reject(socket, 503);
      if (outcome === 'unsupported') return reject(socket, 500);
      if ('denied' in outcome) return reject(socket, outcome.denied);
      if (outcome.kind !== 'ok') return reject(socket, 500);
      const payload = outcome.payload;
      const status = isRecord(payload) && payload.statusCode !== undefined ? Number(payload.statusCode) : 200;
      if (!Number.isInteger(status) || status < 200 || status > 299) {
        return reject(socket, Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500);
      }
      const protocol =
        isRecord(payload) && isRecord(payload.headers)
          ? headerValue(payload.headers, 'sec-websocket-protocol')
          : undefined;
      if (protocol) this.#protocols.set(req, protocol);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) =>
      this.#open(ws, req, connectionId, connectedAt, authorizer),
    );
  }

  /** The `$connect` route's authorizer step. */
  #authorize(route: ApiRoute, event: WebSocketConnectAuthorization['event']) {
    const { api, invoker, limits, log } = this.#opts;
    const region = this.#opts.region ?? 'us-east-1';
    const accountId = this.#opts.accountId ?? '000000000000';
    return authorizeWebSocketConnect({
      route,
      authorizers: api.authorizers,
      methodArn: `arn:aws:execute-api:${region}:${accountId}:${api.apiId}/${api.stageName}/$connect`,
      stageVariables: api.stageVariables,
      event,
      invoke: (uri, authorizerEvent) =>
        invokeWithTimeout(invoker, uri, authorizerEvent, limits.integrationTimeoutMs),
      log,
    });
  }

  #open(
    ws: WebSocket,
    req: IncomingMessage,
    connectionId: string,
    connectedAt: number,
    authorizer: Record<string, unknown> | undefined,
  ): void {
    const { limits } = this.#opts;
    const conn = new Connection(
      connectionId,
      ws,
      new Date(connectedAt),
      sourceIpOf(req),
      req.headers['user-agent'] ?? '',
      req.headers.host ?? 'localhost',
    );
    conn.authorizer = authorizer;
    this.#connections.set(connectionId, conn);
    const idle = conn.timer(limits.idleTimeoutMs, () => conn.close(1001, 'Going away'));
    conn.timer(limits.maxConnectionLifeMs, () => conn.close(1001, 'Going away'));

    ws.on('error', (err) =>
      this.#opts.log(`Local WebSocket API: connection ${connectionId}: ${err.message}`),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = toBuffer(data);
      conn.lastActiveAt = new Date();
      idle.refresh();
      if (buf.length > limits.maxMessageBytes) {
        conn.close(1009, 'Message too big');
        return;
      }
      this.#onMessage(conn, buf, isBinary).catch((err: unknown) => {
        this.#opts.log(`Local WebSocket API: message on ${connectionId} failed: ${String(err)}`);
      });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#connections.delete(connectionId);
      conn.clearTimers();
      const status = conn.serverClose ?? clientCloseStatus(code, reason.toString('utf8'));
      const done = this.#disconnect(conn, status).finally(() => this.#disconnects.delete(done));
      this.#disconnects.add(done);
    });
  }

  async #onMessage(conn: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    const requestId = apiGatewayId();
    const body = isBinary ? data.toString('base64') : data.toString('utf8');
    // A binary message cannot be evaluated by the selection expression: it goes to $default.
    const selected = isBinary ? undefined : selectRouteKey(this.#opts.api.routeSelectionExpression, body);
    const route =
      (selected !== undefined && !selected.startsWith('$') ? this.#route(selected) : undefined) ??
      this.#route('$default');
    if (!route) {
      conn.sendText(gatewayMessage('Forbidden', conn.connectionId, requestId));
      return;
    }
    const epochMs = Date.now();
    const event = {
      requestContext: {
        ...this.#context(conn, route.routeKey, 'MESSAGE', requestId, epochMs),
        messageId: apiGatewayId(),
      },
      body,
      isBase64Encoded: isBinary,
    };
    const outcome = await this.#invoke(route, event);
    if (outcome === 'unsupported') {
      conn.sendText(gatewayMessage('Internal server error', conn.connectionId, requestId));
    } else if (outcome.kind === 'timeout') {
      conn.sendText(gatewayMessage('Endpoint request timed out', conn.connectionId, requestId));
    } else if (outcome.kind === 'error') {
      conn.sendText(gatewayMessage('Internal server error', conn.connectionId, requestId));
    } else if (route.routeResponseSelectionExpression) {
      const reply = routeResponseBody(outcome.payload);
      if (reply !== undefined) conn.sendText(reply);
    }
  }

  async #disconnect(conn: Connection, status: { code: number; reason: string }): Promise<void> {
    const route = this.#route('$disconnect');
    if (!route) return;
    const requestId = apiGatewayId();
    const headers = { Host: conn.domainName, 'X-Forwarded-For': conn.sourceIp };
    const event = {
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      requestContext: {
        ...this.#context(conn, '$disconnect', 'DISCONNECT', requestId, Date.now()),
        disconnectStatusCode: status.code,
        disconnectReason: status.reason,
      },
      isBase64Encoded: false,
    };
    // $disconnect is best effort on AWS: its failures are reported and otherwise ignored.
    const outcome = await this.#invoke(route, event);
    if (outcome !== 'unsupported' && outcome.kind !== 'ok') {
      this.#opts.log(
        `Local WebSocket API: $disconnect of ${conn.connectionId} ${
          outcome.kind === 'timeout' ? 'timed out' : `failed: ${outcome.errorType}: ${outcome.errorMessage}`
        } (ignored)`,
      );
    }
  }

  /** Runs the route's Lambda proxy integration (`$connect` has passed its authorizer already). */
  async #invoke(route: ApiRoute, event: unknown): Promise<InvokeOutcome | 'unsupported'> {
    if (route.routeKey !== '$connect' && route.authorizationType !== 'NONE') {
      this.#reportOnce(
        route.logicalId,
        `Local WebSocket API: unsupported AuthorizationType ${route.authorizationType} on route '${route.routeKey}' (API Gateway runs WebSocket authorizers on $connect only); failing the route`,
      );
      return 'unsupported';
    }
    const integration = route.integration;
    if (integration?.integrationType !== 'AWS_PROXY') {
      this.#reportOnce(
        route.logicalId,
        `Local WebSocket API: route '${route.routeKey}' has ${
          integration ? `a ${integration.integrationType} integration` : 'no integration'
        }; only AWS_PROXY (Lambda) integrations are supported`,
      );
      return 'unsupported';
    }
    const timeoutMs = integrationTimeout(integration, this.#opts.limits.integrationTimeoutMs);
    return invokeWithTimeout(this.#opts.invoker, integration.uri, event, timeoutMs);
  }

  #route(routeKey: string): ApiRoute | undefined {
    return this.#opts.api.routes.find((r) => r.routeKey === routeKey);
  }

  #context(
    conn: Pick<Connection, 'connectionId' | 'connectedAt' | 'sourceIp' | 'userAgent' | 'domainName'> & {
      readonly authorizer?: Record<string, unknown>;
    },
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
    requestId: string,
    epochMs: number,
  ) {
    return {
      routeKey,
      eventType,
      extendedRequestId: requestId,
      requestTime: requestTime(epochMs),
      messageDirection: 'IN',
      stage: this.#opts.api.stageName,
      connectedAt: conn.connectedAt.getTime(),
      requestTimeEpoch: epochMs,
      identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
      requestId,
      domainName: conn.domainName,
      connectionId: conn.connectionId,
      apiId: this.#opts.api.apiId,
      ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
    };
  }

  #connectEvent(req: IncomingMessage, connectionId: string, connectedAt: number) {
    const sourceIp = sourceIpOf(req);
    const domainName = req.headers.host ?? 'localhost';
    // AWS keeps the client's header case in WebSocket events.
    const multiValueHeaders: Record<string, string[]> = {};
    const caseOf = new Map<string, string>();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const raw = req.rawHeaders[i] as string;
      const name = caseOf.get(raw.toLowerCase()) ?? raw;
      caseOf.set(raw.toLowerCase(), name);
      multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), req.rawHeaders[i + 1] as string];
    }
    const add = (name: string, value: string) => {
      if (!caseOf.has(name.toLowerCase())) multiValueHeaders[name] = [value];
    };
    add('X-Amzn-Trace-Id', traceId(connectedAt));
    add('X-Forwarded-For', sourceIp);
    add('X-Forwarded-Port', String(req.socket.localPort ?? ''));
    add('X-Forwarded-Proto', 'http');
    const headers = Object.fromEntries(
      Object.entries(multiValueHeaders).map(([k, v]) => [k, v[v.length - 1]]),
    );

    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const multiQuery: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(q < 0 ? '' : url.slice(q + 1))) {
      multiQuery[k] = [...(multiQuery[k] ?? []), v];
    }
    const hasQuery = Object.keys(multiQuery).length > 0;

    const requestId = apiGatewayId();
    return {
      headers,
      multiValueHeaders,
      ...(hasQuery
        ? {
            queryStringParameters: Object.fromEntries(
              Object.entries(multiQuery).map(([k, v]) => [k, v[v.length - 1]]),
            ),
            multiValueQueryStringParameters: multiQuery,
          }
        : {}),
      requestContext: this.#context(
        {
          connectionId,
          connectedAt: new Date(connectedAt),
          sourceIp,
          userAgent: req.headers['user-agent'] ?? '',
          domainName,
        },
        '$connect',
        'CONNECT',
        requestId,
        connectedAt,
      ),
      isBase64Encoded: false,
    };
  }

  #reportOnce(key: string, message: string): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#opts.log(message);
  }

  /** Closes every connection ('Going away'), refuses pending handshakes and awaits `$disconnect` calls. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const socket of this.#pending) socket.destroy();
    const open = [...this.#connections.values()];
    for (const conn of open) conn.close(1001, 'Going away');
    await Promise.all(open.map((c) => c.closed));
    await Promise.all([...this.#disconnects]);
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : String(headers[key]);
}

/** What a route response sends back: the integration result's `body`, or a bare result itself. */
function routeResponseBody(payload: unknown): string | undefined {
  if (payload === undefined || payload === null) return undefined;
  if (typeof payload === 'string') return payload;
  if (isRecord(payload) && ('statusCode' in payload || 'body' in payload)) {
    const body = payload.body;
    if (body === undefined || body === null) return undefined;
    return typeof body === 'string' ? body : JSON.stringify(body);
  }
  return JSON.stringify(payload);
}

/** The disconnect status API Gateway reports for a close started by the client. */
function clientCloseStatus(code: number, reason: string): { code: number; reason: string } {
  if (code === 1005) return { code, reason: 'Client-side close frame status not set' };
  if (code === 1006) return { code, reason: 'Connection closed abnormally' };
  return { code, reason };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Refuses a handshake with a plain HTTP status, as API Gateway does when `$connect` says no. */
function reject(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
  );
}
