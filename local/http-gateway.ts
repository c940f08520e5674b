/**
 * The HTTP API side of the local gateway: every `AWS::ApiGatewayV2::Api` with ProtocolType HTTP,
 * its routes and Lambda proxy integrations (payload format 2.0), CORS and AWS's error answers.
 *
 * Routes with AuthorizationType CUSTOM run their Lambda authorizer first (see ./authorizers.ts);
 * CORS preflights answered by the gateway stay unauthenticated, as API Gateway's built-in CORS.
 *
 * It also holds the small API Gateway v2 helpers the WebSocket side shares (reading APIs from the
 * template, request ids, request times, the integration timeout), so both read the template alike.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiAuthorizer, HttpAuthorizers } from './authorizers';
import type { CfnTemplate, FunctionInvoker, InvokeOutcome, Resolver } from './types';

// ─── Shared API Gateway v2 helpers ────────────────────────────────────────────────────────────

/** An `AWS::ApiGatewayV2::Integration`, resolved. */
export interface ApiIntegration {
  readonly logicalId: string;
  readonly integrationType: string;
  /** Resolved IntegrationUri: a function ARN or the `…/functions/<arn>/invocations` form. */
  readonly uri: string;
  readonly payloadFormatVersion: string | undefined;
  readonly timeoutInMillis: number | undefined;
}

/** An `AWS::ApiGatewayV2::Route`, resolved, with its integration when its Target names one. */
export interface ApiRoute {
  readonly logicalId: string;
  readonly routeKey: string;
  /** 'NONE' when unset. */
  readonly authorizationType: string;
  readonly authorizerId: string | undefined;
  readonly routeResponseSelectionExpression: string | undefined;
  readonly integration: ApiIntegration | undefined;
}

/** An `AWS::ApiGatewayV2::Api` with its routes, resolved. */
export interface ApiDefinition {
  readonly logicalId: string;
  /** The resolved `Ref` of the Api: what requestContext.apiId carries. */
  readonly apiId: string;
  readonly protocolType: 'HTTP' | 'WEBSOCKET';
  readonly routeSelectionExpression: string | undefined;
  readonly corsConfiguration: CorsConfiguration | undefined;
  /** StageName of the first Stage of this Api ('$default' when it has none). */
  readonly stageName: string;
  /** StageVariables of that Stage (empty when it has none). */
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly routes: readonly ApiRoute[];
  /** The Api's `AWS::ApiGatewayV2::Authorizer`s; routes name them by AuthorizerId. */
  readonly authorizers: readonly ApiAuthorizer[];
}

/** `CorsConfiguration` of an HTTP Api. */
export interface CorsConfiguration {
  readonly AllowCredentials?: boolean;
  readonly AllowHeaders?: readonly string[];
  readonly AllowMethods?: readonly string[];
  readonly AllowOrigins?: readonly string[];
  readonly ExposeHeaders?: readonly string[];
  readonly MaxAge?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads the APIs of one protocol, their routes and integrations, from the template. Every
 * property goes through the resolver and references are compared as resolved values.
 */
export function readApis(
  template: CfnTemplate,
  resolver: Resolver,
  protocolType: 'HTTP' | 'WEBSOCKET',
): ApiDefinition[] {
  const resources = Object.entries(template.Resources).filter(([, res]) => {
    // A resource whose Condition is false does not exist; Fn::If lets the resolver evaluate it.
    return (
      res.Condition === undefined || resolver.resolve({ 'Fn::If': [res.Condition, true, false] }) === true
    );
  });
  const ofType = (type: string) => resources.filter(([, res]) => res.Type === type);
  const prop = (res: { Properties?: Record<string, unknown> }, name: string): unknown =>
    res.Properties?.[name] === undefined ? undefined : resolver.resolve(res.Properties[name]);
  const optString = (v: unknown): string | undefined =>
    v === undefined || v === null ? undefined : String(v);

  const integrationsByTarget = new Map<string, ApiIntegration & { apiId: string }>();
  for (const [logicalId, res] of ofType('AWS::ApiGatewayV2::Integration')) {
    const timeout = prop(res, 'TimeoutInMillis');
    integrationsByTarget.set(`integrations/${resolver.resolveString({ Ref: logicalId })}`, {
      logicalId,
      apiId: String(prop(res, 'ApiId')),
      integrationType: String(prop(res, 'IntegrationType') ?? ''),
      uri: String(prop(res, 'IntegrationUri') ?? ''),
      payloadFormatVersion: optString(prop(res, 'PayloadFormatVersion')),
      timeoutInMillis: timeout === undefined ? undefined : Number(timeout),
    });
  }

  const apis: ApiDefinition[] = [];
  for (const [logicalId, res] of ofType('AWS::ApiGatewayV2::Api')) {
    if (prop(res, 'ProtocolType') !== protocolType) continue;
    const apiId = resolver.resolveString({ Ref: logicalId });
    const routes: ApiRoute[] = [];
    for (const [routeId, route] of ofType('AWS::ApiGatewayV2::Route')) {
      if (String(prop(route, 'ApiId')) !== apiId) continue;
      const target = optString(prop(route, 'Target'));
      const integration = target === undefined ? undefined : integrationsByTarget.get(target);
      routes.push({
        logicalId: routeId,
        routeKey: String(prop(route, 'RouteKey')),
        authorizationType: optString(prop(route, 'AuthorizationType')) ?? 'NONE',
        authorizerId: optString(prop(route, 'AuthorizerId')),
        routeResponseSelectionExpression: optString(prop(route, 'RouteResponseSelectionExpression')),
        integration: integration?.apiId === apiId ? integration : undefined,
      });
    }
    const authorizers: ApiAuthorizer[] = [];
    for (const [authorizerLogicalId, authorizer] of ofType('AWS::ApiGatewayV2::Authorizer')) {
      if (String(prop(authorizer, 'ApiId')) !== apiId) continue;
      const identitySource = prop(authorizer, 'IdentitySource');
      const ttl = Number(prop(authorizer, 'AuthorizerResultTtlInSeconds') ?? 0);
      authorizers.push({
        logicalId: authorizerLogicalId,
        authorizerId: resolver.resolveString({ Ref: authorizerLogicalId }),
        authorizerType: String(prop(authorizer, 'AuthorizerType') ?? ''),
        uri: optString(prop(authorizer, 'AuthorizerUri')),
        payloadFormatVersion: optString(prop(authorizer, 'AuthorizerPayloadFormatVersion')),
        enableSimpleResponses: prop(authorizer, 'EnableSimpleResponses') === true,
        // A list of expressions; the older comma-separated string form is accepted too.
        identitySource: (Array.isArray(identitySource)
          ? identitySource.map(String)
          : typeof identitySource === 'string'
            ? identitySource.split(',')
            : []
        )
          .map((s) => s.trim())
          .filter((s) => s !== ''),
        resultTtlSeconds: Number.isFinite(ttl) && ttl > 0 ? ttl : 0,
      });
    }
    const stage = ofType('AWS::ApiGatewayV2::Stage').find(([, s]) => String(prop(s, 'ApiId')) === apiId);
    const stageVariables = stage ? prop(stage[1], 'StageVariables') : undefined;
    const cors = prop(res, 'CorsConfiguration');
    apis.push({
      logicalId,
      apiId,
      protocolType,
      routeSelectionExpression: optString(prop(res, 'RouteSelectionExpression')),
      corsConfiguration: isRecord(cors) ? (cors as CorsConfiguration) : undefined,
      stageName: stage ? String(prop(stage[1], 'StageName') ?? '$default') : '$default',
      stageVariables: isRecord(stageVariables)
        ? Object.fromEntries(Object.entries(stageVariables).map(([k, v]) => [k, String(v)]))
        : {},
      routes,
      authorizers,
    });
  }
  return apis;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** An id shaped like API Gateway's request and connection ids: 15 base64url chars and '=' (e.g. `L0SM9cOFvHcCIhw=`). */
export function apiGatewayId(): string {
  let id = '';
  for (let i = 0; i < 15; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return `${id}=`;
}

/** An X-Ray style trace header value, as API Gateway adds to requests it forwards. */
export function traceId(epochMs: number): string {
  return `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's request time format: `12/Mar/2020:19:03:58 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())} +0000`;
}

/** The client address as API Gateway reports it (IPv4-mapped IPv6 addresses unwrapped). */
export function sourceIpOf(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
}

/**
 * Invokes a function under API Gateway's integration timeout: whichever ends first wins. The
 * invocation itself keeps running to its own end, as it would in Lambda.
 */
export async function invokeWithTimeout(
  invoker: FunctionInvoker,
  functionRef: string,
  event: unknown,
  timeoutMs: number,
): Promise<InvokeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<InvokeOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([invoker.invoke(functionRef, event), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The effective timeout of an integration: its TimeoutInMillis capped by the gateway's limit. */
export function integrationTimeout(integration: ApiIntegration, limitMs: number): number {
  const own = integration.timeoutInMillis;
  return own !== undefined && Number.isFinite(own) && own > 0 ? Math.min(own, limitMs) : limitMs;
}

// ─── Route matching ───────────────────────────────────────────────────────────────────────────

/** A route chosen for a request, with its path parameters. */
export interface RouteMatch<R extends { routeKey: string } = ApiRoute> {
  readonly route: R;
  readonly pathParameters: Record<string, string>;
}

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

function parseRouteKey(routeKey: string): { method: string; segments: Segment[] } | undefined {
  const space = routeKey.indexOf(' ');
  if (space <= 0) return undefined;
  const method = routeKey.slice(0, space).toUpperCase();
  const segments = routeKey
    .slice(space + 1)
    .split('/')
    .slice(1)
    .filter((s, i, all) => s !== '' || i < all.length - 1)
    .map((s): Segment => {
      const m = /^\{([^{}]+?)(\+)?\}$/.exec(s);
      if (!m) return { kind: 'literal', value: s };
      return m[2] ? { kind: 'greedy', name: m[1] as string } : { kind: 'param', name: m[1] as string };
    });
  return { method, segments };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Segment ranks: a literal beats a variable, which beats a greedy variable. */
const RANK = { literal: 0, param: 1, greedy: 2 } as const;

/**
 * Compares two matching routes by AWS's priority: the most specific path first (left to right, a
 * literal segment before `{param}` before `{proxy+}`; a longer path before a shorter one), then a
 * specific method before ANY.
 */
function compareSpecificity(
  a: { method: string; segments: Segment[] },
  b: { method: string; segments: Segment[] },
): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const sa = a.segments[i];
    const sb = b.segments[i];
    if (!sa || !sb) return sa ? -1 : 1;
    const d = RANK[sa.kind] - RANK[sb.kind];
    if (d !== 0) return d;
  }
  return (a.method === 'ANY' ? 1 : 0) - (b.method === 'ANY' ? 1 : 0);
}

/**
 * Chooses the route for a request as an HTTP API does: a full match of path and method, then a
 * match through a greedy path variable, then `$default`. `rawPath` is the undecoded request path.
 */
export function matchHttpRoute<R extends { routeKey: string }>(
  routes: readonly R[],
  method: string,
  rawPath: string,
): RouteMatch<R> | undefined {
  const requestSegments = rawPath.split('/').slice(1);
  let best:
    | { route: R; parsed: { method: string; segments: Segment[] }; params: Record<string, string> }
    | undefined;
  for (const route of routes) {
    const parsed = parseRouteKey(route.routeKey);
    if (!parsed || (parsed.method !== 'ANY' && parsed.method !== method.toUpperCase())) continue;
    const params = matchSegments(parsed.segments, requestSegments);
    if (!params) continue;
    if (!best || compareSpecificity(parsed, best.parsed) < 0) best = { route, parsed, params };
  }
  if (best) return { route: best.route, pathParameters: best.params };
  const fallback = routes.find((r) => r.routeKey === '$default');
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

function matchSegments(route: Segment[], request: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.length; i++) {
    const seg = route[i] as Segment;
    if (seg.kind === 'greedy') {
      const rest = request.slice(i);
      // A greedy variable needs at least one non-empty segment.
      if (rest.length === 0 || rest.join('') === '') return undefined;
      params[seg.name] = safeDecode(rest.join('/'));
      return params;
    }
    const value = request[i];
    if (value === undefined) return undefined;
    if (seg.kind === 'literal') {
      if (seg.value !== value) return undefined;
    } else {
      if (value === '') return undefined;
      params[seg.name] = safeDecode(value);
    }
  }
  return route.length === request.length ? params : undefined;
}

// ─── Payload format 2.0 ───────────────────────────────────────────────────────────────────────

/** Content types whose bodies reach the function as text; all others are base64-encoded. */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

interface EventInput {
  readonly req: IncomingMessage;
  readonly api: ApiDefinition;
  readonly match: RouteMatch;
  readonly body: Buffer;
  readonly accountId: string;
  readonly requestId: string;
  readonly epochMs: number;
}

/** Builds the payload format 2.0 event of an HTTP API Lambda proxy integration. */
export function buildHttpEventV2({ req, api, match, body, accountId, requestId, epochMs }: EventInput) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQueryString = q < 0 ? '' : url.slice(q + 1);
  const sourceIp = sourceIpOf(req);

  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      // Payload 2.0 moves cookies out of the headers into their own array.
      cookies = values
        .flatMap((v) => v.split(';'))
        .map((c) => c.trim())
        .filter((c) => c !== '');
      continue;
    }
    headers[name] = values.join(',');
  }
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] = traceId(epochMs);

  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    query[key] = key in query ? `${query[key]},${value}` : value;
  }

  const domainName = req.headers.host ?? `${api.apiId}.execute-api.localhost`;
  const isBase64Encoded = body.length > 0 && !isTextContentType(req.headers['content-type']);
  return {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId,
      apiId: api.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: requestTime(epochMs),
      timeEpoch: epochMs,
    },
    ...(body.length > 0 ? { body: isBase64Encoded ? body.toString('base64') : body.toString('utf8') } : {}),
    ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: match.pathParameters } : {}),
    ...(Object.keys(api.stageVariables ?? {}).length > 0 ? { stageVariables: api.stageVariables } : {}),
    isBase64Encoded,
  };
}

/** A response ready to write. */
export interface GatewayResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * Maps a function's result to the HTTP response per payload format 2.0: an object with
 * `statusCode` is a full response; anything else is a 200 JSON body. Returns undefined for a
 * malformed response (API Gateway answers those with 500).
 */
export function mapHttpResultV2(payload: unknown): GatewayResponse | undefined {
  if (!isRecord(payload) || !('statusCode' in payload)) {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const status = Number(payload.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const headers: Record<string, string | string[]> = {};
  if (isRecord(payload.multiValueHeaders)) {
    for (const [name, values] of Object.entries(payload.multiValueHeaders)) {
      if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String).join(', ');
    }
  }
  if (isRecord(payload.headers)) {
    for (const [name, value] of Object.entries(payload.headers)) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
  }
  if (Array.isArray(payload.cookies) && payload.cookies.length > 0) {
    headers['set-cookie'] = payload.cookies.map(String);
  }
  const raw = payload.body;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') return undefined;
  const body = raw ? Buffer.from(raw, payload.isBase64Encoded === true ? 'base64' : 'utf8') : Buffer.alloc(0);
  return { statusCode: status, headers, body };
}

// ─── CORS ─────────────────────────────────────────────────────────────────────────────────────

function allowedOrigin(cors: CorsConfiguration, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  const origins = cors.AllowOrigins ?? [];
  if (origins.includes('*')) return cors.AllowCredentials ? origin : '*';
  return origins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}

/** The gateway's answer to a CORS preflight: 204, with CORS headers only for an allowed origin. */
function preflightResponse(cors: CorsConfiguration, req: IncomingMessage): GatewayResponse {
  const headers: Record<string, string | string[]> = {};
  const origin = allowedOrigin(cors, req.headers.origin);
  if (origin) {
    headers['access-control-allow-origin'] = origin;
    if (cors.AllowMethods?.length) headers['access-control-allow-methods'] = cors.AllowMethods.join(',');
    if (cors.AllowHeaders?.length) headers['access-control-allow-headers'] = cors.AllowHeaders.join(',');
    if (cors.MaxAge !== undefined) headers['access-control-max-age'] = String(cors.MaxAge);
    if (cors.AllowCredentials) headers['access-control-allow-credentials'] = 'true';
    if (origin !== '*') headers.vary = 'origin';
  }
  return { statusCode: 204, headers, body: Buffer.alloc(0) };
}

/** With CORS configured, API Gateway replaces the backend's CORS headers with its own. */
function applyCors(
  cors: CorsConfiguration,
  req: IncomingMessage,
  response: GatewayResponse,
): GatewayResponse {
  const headers = Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !name.startsWith('access-control-')),
  );
  const origin = allowedOrigin(cors, req.headers.origin);
  if (origin) {
    headers['access-control-allow-origin'] = origin;
    if (cors.AllowCredentials) headers['access-control-allow-credentials'] = 'true';
    if (cors.ExposeHeaders?.length) headers['access-control-expose-headers'] = cors.ExposeHeaders.join(',');
    if (origin !== '*') headers.vary = 'origin';
  }
  return { ...response, headers };
}

// ─── The HTTP API gateway ─────────────────────────────────────────────────────────────────────

/** Limits of the HTTP API side. */
export interface HttpLimits {
  /** Integration timeout; API Gateway's effective limit is 29 s. */
  readonly integrationTimeoutMs: number;
  /** Request payload quota: 10 MB. */
  readonly maxRequestBodyBytes: number;
}

/** Options of {@link HttpApiGateway}. */
export interface HttpApiGatewayOptions {
  readonly apis: readonly ApiDefinition[];
  readonly invoker: FunctionInvoker;
  readonly accountId: string;
  /** The region in authorizers' routeArns; default us-east-1. */
  readonly region?: string;
  readonly limits: HttpLimits;
  readonly log: (message: string) => void;
  /** Clock (epoch ms) of the authorizer result cache; default Date.now. */
  readonly now?: () => number;
}

/** API Gateway's messages for the authorizer step's refusals. */
const DENIED_MESSAGES = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'Internal Server Error' } as const;

const json = (statusCode: number, message: string): GatewayResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message })),
});

/** Serves every HTTP API of the template on one port. */
export class HttpApiGateway {
  readonly #opts: HttpApiGatewayOptions;
  readonly #reported = new Set<string>();
  readonly #authorizers: HttpAuthorizers;

  constructor(opts: HttpApiGatewayOptions) {
    this.#opts = opts;
    this.#authorizers = new HttpAuthorizers({
      // API Gateway gives an authorizer the same time budget as an integration.
      invoke: (uri, event) => invokeWithTimeout(opts.invoker, uri, event, opts.limits.integrationTimeoutMs),
      region: opts.region ?? 'us-east-1',
      accountId: opts.accountId,
      now: opts.now ?? Date.now,
      log: opts.log,
    });
  }

  /** True when a route (or the gateway's CORS preflight answer) of some HTTP API takes this request. */
  canHandle(req: IncomingMessage): boolean {
    return this.#isPreflight(req) !== undefined || this.#match(req) !== undefined;
  }

  /** Answers a request as API Gateway would, including `{"message":"Not Found"}` when no route matches. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = apiGatewayId();
    const response = await this.#respond(req, requestId);
    write(res, req, { ...response, headers: { ...response.headers, 'apigw-requestid': requestId } });
  }

  async #respond(req: IncomingMessage, requestId: string): Promise<GatewayResponse> {
    const preflightApi = this.#isPreflight(req);
    if (preflightApi?.corsConfiguration) return preflightResponse(preflightApi.corsConfiguration, req);

    const found = this.#match(req);
    if (!found) {
      drain(req);
      return json(404, 'Not Found');
    }
    const { api, match } = found;
    const cors = api.corsConfiguration;
    const withCors = (r: GatewayResponse) => (cors ? applyCors(cors, req, r) : r);

    const body = await readBody(req, this.#opts.limits.maxRequestBodyBytes);
    if (body === 'too-large') return withCors(json(413, 'Request Entity Too Large'));

    const epochMs = Date.now();
    const event = buildHttpEventV2({
      req,
      api,
      match,
      body,
      accountId: this.#opts.accountId,
      requestId,
      epochMs,
    });
    const auth = await this.#authorizers.authorize({
      apiId: api.apiId,
      authorizers: api.authorizers,
      route: match.route,
      event,
    });
    if (auth.kind === 'unsupported') {
      this.#reportOnce(match.route.logicalId, `Local HTTP API: unsupported ${auth.feature}; answering 500`);
      return withCors(json(500, 'Internal Server Error'));
    }
    if (auth.kind === 'deny') return withCors(json(auth.statusCode, DENIED_MESSAGES[auth.statusCode]));

    const integration = match.route.integration;
    if (integration?.integrationType !== 'AWS_PROXY') {
      this.#reportOnce(
        match.route.logicalId,
        `Local HTTP API: route '${match.route.routeKey}' has ${
          integration ? `a ${integration.integrationType} integration` : 'no integration'
        }; only AWS_PROXY (Lambda) integrations are supported; answering 500`,
      );
      return withCors(json(500, 'Internal Server Error'));
    }
    if (integration.payloadFormatVersion !== undefined && integration.payloadFormatVersion !== '2.0') {
      this.#reportOnce(
        integration.logicalId,
        `Local HTTP API: payload format ${integration.payloadFormatVersion} of route '${match.route.routeKey}' is not supported (only 2.0); answering 500`,
      );
      return withCors(json(500, 'Internal Server Error'));
    }

    const authorized = auth.authorizer
      ? { ...event, requestContext: { ...event.requestContext, authorizer: auth.authorizer } }
      : event;
    const timeoutMs = integrationTimeout(integration, this.#opts.limits.integrationTimeoutMs);
    const outcome = await invokeWithTimeout(this.#opts.invoker, integration.uri, authorized, timeoutMs);
    if (outcome.kind === 'timeout') return withCors(json(503, 'Service Unavailable'));
    if (outcome.kind === 'error') return withCors(json(500, 'Internal Server Error'));
    const mapped = mapHttpResultV2(outcome.payload);
    if (!mapped) {
      this.#opts.log(
        `Local HTTP API: malformed Lambda response for '${match.route.routeKey}'; answering 500`,
      );
      return withCors(json(500, 'Internal Server Error'));
    }
    return withCors(mapped);
  }

  #reportOnce(key: string, message: string): void {
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#opts.log(message);
  }

  /** The Api whose CORS configuration answers this preflight request, if it is one. */
  #isPreflight(req: IncomingMessage): ApiDefinition | undefined {
    if (req.method !== 'OPTIONS' || !req.headers.origin || !req.headers['access-control-request-method']) {
      return undefined;
    }
    const withCors = this.#opts.apis.filter((a) => a.corsConfiguration);
    if (withCors.length <= 1) return withCors[0];
    // Several HTTP APIs share the port: the one with a route for this path (any method) answers.
    const method = String(req.headers['access-control-request-method']);
    return withCors.find((a) => matchHttpRoute(a.routes, method, pathOf(req))) ?? withCors[0];
  }

  #match(req: IncomingMessage): { api: ApiDefinition; match: RouteMatch } | undefined {
    const path = pathOf(req);
    let best: { api: ApiDefinition; match: RouteMatch } | undefined;
    for (const api of this.#opts.apis) {
      const match = matchHttpRoute(api.routes, req.method ?? 'GET', path);
      if (!match) continue;
      // Across APIs on one port, a specific route beats another API's $default.
      if (!best || (best.match.route.routeKey === '$default' && match.route.routeKey !== '$default')) {
        best = { api, match };
      }
    }
    return best;
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Reads the request body, stopping at the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    drain(req);
    return Promise.resolve('too-large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Consumes an unread request body so the connection can be reused. */
function drain(req: IncomingMessage): void {
  req.resume();
}

/** Writes a gateway response (no body for HEAD). */
function write(res: ServerResponse, req: IncomingMessage, response: GatewayResponse): void {
  try {
    for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
    res.setHeader('content-length', String(response.body.length));
    res.writeHead(response.statusCode);
  } catch {
    // A header the function returned that HTTP cannot carry: API Gateway answers 500 here too.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const fallback = json(500, 'Internal Server Error');
    res.writeHead(500, {
      'content-type': 'application/json',
      'content-length': String(fallback.body.length),
    });
    res.end(req.method === 'HEAD' ? undefined : fallback.body);
    return;
  }
  res.end(req.method === 'HEAD' ? undefined : response.body);
}
