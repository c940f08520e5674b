/**
 * Lambda authorizers of API Gateway v2, enforced as the template declares them: an
 * `AWS::ApiGatewayV2::Authorizer` of AuthorizerType REQUEST, attached to routes whose
 * AuthorizationType is CUSTOM (AuthorizerId = the authorizer's Ref).
 *
 * HTTP APIs (payload format 2.0):
 * - Every IdentitySource (`$request.header.X`, `$request.querystring.x`, `$context.x`,
 *   `$stageVariables.x`) must be present and non-empty, else 401 `{"message":"Unauthorized"}` and
 *   the authorizer is not invoked.
 * - The authorizer gets the 2.0 REQUEST event (`routeArn`, `identitySource` values, the request
 *   without its body). It answers a simple response `{isAuthorized, context?}`
 *   (EnableSimpleResponses true) or an IAM policy `{principalId, policyDocument, context?}`
 *   evaluated against the routeArn. Denied → 403 `{"message":"Forbidden"}`; an error, timeout or
 *   malformed answer → 500. Allowed → the integration's `requestContext.authorizer` is
 *   `{ lambda: context }` (`lambda: null` when the answer had no context).
 * - With AuthorizerResultTtlInSeconds > 0 and identity sources, the answer is cached per
 *   authorizer and identity source values for that long, whatever the route: a cached policy is
 *   evaluated again against each request's routeArn, as API Gateway does.
 *
 * WebSocket APIs (`$connect` only, never cached):
 * - Identity sources are `route.request.header.X`, `route.request.querystring.x`,
 *   `stageVariables.x` and `context.x`; an empty list means the authorizer always runs.
 * - The authorizer gets the REQUEST event with `methodArn`
 *   (`arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/$connect`) and must answer an IAM
 *   policy. Missing identity → 401, Deny or no matching Allow → 403, failure → 500.
 * - Allowed → every event of the connection carries `requestContext.authorizer =
 *   {principalId, integrationLatency, ...context}`.
 */
import type { ApiRoute } from './http-gateway';
import type { InvokeOutcome } from './types';

/** An `AWS::ApiGatewayV2::Authorizer`, resolved. */
export interface ApiAuthorizer {
  readonly logicalId: string;
  /** The resolved Ref of the authorizer: what a route's AuthorizerId names. */
  readonly authorizerId: string;
  /** 'REQUEST' (a Lambda authorizer) or 'JWT'. */
  readonly authorizerType: string;
  /** The resolved AuthorizerUri (`…/functions/<function arn>/invocations`). */
  readonly uri: string | undefined;
  readonly payloadFormatVersion: string | undefined;
  readonly enableSimpleResponses: boolean;
  /** Identity source expressions, in template order. */
  readonly identitySource: readonly string[];
  /** AuthorizerResultTtlInSeconds; 0 (also when unset) disables caching. */
  readonly resultTtlSeconds: number;
}

/** Invokes an authorizer function by its URI, under the gateway's timeout. */
export type AuthorizerInvoke = (functionRef: string, event: unknown) => Promise<InvokeOutcome>;

/** The authorizer step's verdict for one request. */
export type Authorization =
  /** Run the integration, with this `requestContext.authorizer` (none for public routes). */
  | { readonly kind: 'allow'; readonly authorizer?: Record<string, unknown> }
  /** Answer with API Gateway's status: 401 Unauthorized, 403 Forbidden or 500. */
  | { readonly kind: 'deny'; readonly statusCode: 401 | 403 | 500 }
  /** A configuration the local runtime does not implement: reported, never silently allowed. */
  | { readonly kind: 'unsupported'; readonly feature: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ─── Identity sources ─────────────────────────────────────────────────────────────────────────

/** Where identity source expressions read their values from. */
export interface IdentityLookup {
  header(name: string): string | undefined;
  query(name: string): string | undefined;
  stageVariable(name: string): string | undefined;
  /** A `$context` variable, by its dotted name. */
  context(name: string): unknown;
}

const IDENTITY_SOURCE =
  /^\$?(?:(?:route\.)?request\.(header|querystring)\.(.+)|(stageVariables|context)\.(.+))$/;

/**
 * The values of identity source expressions of either API type (`$request.header.Authorization`,
 * `route.request.querystring.token`, `$context.routeKey`, `$stageVariables.x`, …), or undefined
 * when any of them is missing or empty. An expression that cannot be read counts as missing.
 */
export function identityValues(sources: readonly string[], lookup: IdentityLookup): string[] | undefined {
  const values: string[] = [];
  for (const source of sources) {
    const m = IDENTITY_SOURCE.exec(source.trim());
    if (!m) return undefined;
    let value: unknown;
    if (m[1] === 'header') value = lookup.header(m[2] as string);
    else if (m[1] === 'querystring') value = lookup.query(m[2] as string);
    else if (m[3] === 'stageVariables') value = lookup.stageVariable(m[4] as string);
    else value = lookup.context(m[4] as string);
    if (value === undefined || value === null || value === '' || typeof value === 'object') return undefined;
    values.push(String(value));
  }
  return values;
}

/** A dotted path into an object (`identity.sourceIp`). */
function pathValue(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split('.')) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

function caseInsensitive(record: unknown, name: string): string | undefined {
  if (!isRecord(record)) return undefined;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (record[key] as string | undefined);
}

// ─── IAM policies ─────────────────────────────────────────────────────────────────────────────

/** An IAM wildcard pattern (`*` any run of characters, `?` one character) as a RegExp. */
function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const asList = (v: unknown): unknown[] | undefined =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;

/**
 * Evaluates an authorizer's policy document for `execute-api:Invoke` on one resource ARN, as IAM
 * does: an explicit Deny wins, then any Allow; nothing matching denies. A document that is not a
 * policy (no Statement, a statement without Effect, Action or Resource) is 'invalid'.
 */
export function evaluatePolicy(document: unknown, resourceArn: string): 'allow' | 'deny' | 'invalid' {
  if (!isRecord(document)) return 'invalid';
  const statements = Array.isArray(document.Statement)
    ? document.Statement
    : isRecord(document.Statement)
      ? [document.Statement]
      : undefined;
  if (!statements) return 'invalid';
  let allowed = false;
  for (const statement of statements) {
    if (!isRecord(statement)) return 'invalid';
    const effect = statement.Effect;
    const actions = asList(statement.Action);
    const resources = asList(statement.Resource);
    if ((effect !== 'Allow' && effect !== 'Deny') || !actions || !resources) return 'invalid';
    const matches = (patterns: unknown[], value: string) =>
      patterns.some((p) => typeof p === 'string' && wildcard(p.toLowerCase()).test(value.toLowerCase()));
    // Actions compare case-insensitively in IAM; resources are ARNs compared as written.
    if (!matches(actions, 'execute-api:Invoke')) continue;
    if (!resources.some((p) => typeof p === 'string' && wildcard(p).test(resourceArn))) continue;
    if (effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'deny';
}

// ─── Shared checks ────────────────────────────────────────────────────────────────────────────

/** The authorizer a route names, or why it cannot be used locally. */
function authorizerOf(
  route: ApiRoute,
  authorizers: readonly ApiAuthorizer[],
): ApiAuthorizer | { unsupported: string } {
  if (route.authorizationType !== 'CUSTOM') {
    return {
      unsupported: `AuthorizationType ${route.authorizationType} on route '${route.routeKey}' (only Lambda REQUEST authorizers, AuthorizationType CUSTOM, are implemented in the local runtime)`,
    };
  }
  const authorizer = authorizers.find((a) => a.authorizerId === route.authorizerId);
  if (!authorizer) {
    return {
      unsupported: `authorizer ${route.authorizerId ?? '(none)'} of route '${route.routeKey}' (not an AWS::ApiGatewayV2::Authorizer of its Api)`,
    };
  }
  if (authorizer.authorizerType !== 'REQUEST' || !authorizer.uri) {
    return {
      unsupported: `AuthorizerType ${authorizer.authorizerType} of authorizer ${authorizer.logicalId} (only Lambda REQUEST authorizers are implemented in the local runtime)`,
    };
  }
  return authorizer;
}

/**
 * Whether the authorizer refused by failing with the message `Unauthorized`: API Gateway's one
 * way for a Lambda authorizer to answer 401 rather than 403 (never cached).
 */
function threwUnauthorized(outcome: InvokeOutcome): boolean {
  return outcome.kind === 'error' && outcome.errorMessage === 'Unauthorized';
}

/** The message of an authorizer invocation that failed, or undefined for a successful one. */
function failure(outcome: InvokeOutcome): string | undefined {
  if (outcome.kind === 'timeout') return 'timed out';
  if (outcome.kind === 'error') return `failed: ${outcome.errorType}: ${outcome.errorMessage}`;
  return undefined;
}

// ─── HTTP APIs ────────────────────────────────────────────────────────────────────────────────

/** Options of {@link HttpAuthorizers}. */
export interface HttpAuthorizersOptions {
  readonly invoke: AuthorizerInvoke;
  readonly region: string;
  readonly accountId: string;
  /** Clock of the result cache (epoch ms). */
  readonly now: () => number;
  /** One line per authorizer failure (500). */
  readonly log: (message: string) => void;
}

/** What the HTTP authorizer step needs of a request: its payload format 2.0 integration event. */
export interface HttpRequestForAuthorization {
  readonly apiId: string;
  readonly authorizers: readonly ApiAuthorizer[];
  readonly route: ApiRoute;
  // biome-ignore lint/suspicious/noExplicitAny: the 2.0 event is read field by field
  readonly event: Record<string, any>;
}

/** Above this many entries, expired cache entries are swept before adding another. */
const CACHE_SWEEP_SIZE = 10_000;

/** The HTTP API authorizer step, with API Gateway's result cache. */
export class HttpAuthorizers {
  readonly #opts: HttpAuthorizersOptions;
  readonly #cache = new Map<string, { readonly response: unknown; readonly expiresAt: number }>();

  constructor(opts: HttpAuthorizersOptions) {
    this.#opts = opts;
  }

  /** Decides whether a request may reach its route's integration. Public routes always may. */
  async authorize({ apiId, authorizers, route, event }: HttpRequestForAuthorization): Promise<Authorization> {
    if (route.authorizationType === 'NONE') return { kind: 'allow' };
    const authorizer = authorizerOf(route, authorizers);
    if ('unsupported' in authorizer) return { kind: 'unsupported', feature: authorizer.unsupported };
    if (authorizer.payloadFormatVersion !== '2.0') {
      return {
        kind: 'unsupported',
        feature: `AuthorizerPayloadFormatVersion ${authorizer.payloadFormatVersion ?? '(unset)'} of authorizer ${authorizer.logicalId} (only 2.0 is implemented in the local runtime)`,
      };
    }

    const values = identityValues(authorizer.identitySource, httpLookup(event));
    if (!values) return { kind: 'deny', statusCode: 401 };

    const { requestContext: ctx } = event;
    const routeArn = `arn:aws:execute-api:${this.#opts.region}:${this.#opts.accountId}:${apiId}/${ctx.stage}/${ctx.http.method}${event.rawPath}`;
    const cacheKey =
      authorizer.resultTtlSeconds > 0 && authorizer.identitySource.length > 0
        ? `${authorizer.logicalId}\u0000${JSON.stringify(values)}`
        : undefined;
    const cached = cacheKey === undefined ? undefined : this.#cache.get(cacheKey);
    if (cached && cached.expiresAt > this.#opts.now())
      return this.#verdict(authorizer, cached.response, routeArn);

    const { body: _body, isBase64Encoded: _isBase64Encoded, ...request } = event;
    const outcome = await this.#opts.invoke(authorizer.uri as string, {
      ...request,
      version: '2.0',
      type: 'REQUEST',
      routeArn,
      identitySource: values,
    });
    if (threwUnauthorized(outcome)) return { kind: 'deny', statusCode: 401 };
    const failed = failure(outcome);
    if (failed || outcome.kind !== 'ok') {
      this.#opts.log(`Local HTTP API: authorizer ${authorizer.logicalId} ${failed}; answering 500`);
      return { kind: 'deny', statusCode: 500 };
    }
    const verdict = this.#verdict(authorizer, outcome.payload, routeArn);
    // Only well-formed answers (allow or deny) are cached; a malformed one is asked again next time.
    const wellFormed = verdict.kind === 'allow' || (verdict.kind === 'deny' && verdict.statusCode === 403);
    if (cacheKey !== undefined && wellFormed) {
      this.#remember(cacheKey, outcome.payload, authorizer.resultTtlSeconds);
    }
    return verdict;
  }

  #remember(key: string, response: unknown, ttlSeconds: number): void {
    const now = this.#opts.now();
    if (this.#cache.size >= CACHE_SWEEP_SIZE) {
      for (const [k, entry] of this.#cache) if (entry.expiresAt <= now) this.#cache.delete(k);
    }
    this.#cache.set(key, { response, expiresAt: now + ttlSeconds * 1000 });
  }

  /** Reads a simple response or an IAM policy response. */
  #verdict(authorizer: ApiAuthorizer, response: unknown, routeArn: string): Authorization {
    const malformed = (why: string): Authorization => {
      this.#opts.log(`Local HTTP API: authorizer ${authorizer.logicalId} answered ${why}; answering 500`);
      return { kind: 'deny', statusCode: 500 };
    };
    if (!isRecord(response)) return malformed('something that is not an object');
    const context = response.context;
    if (context !== undefined && context !== null && !isRecord(context)) {
      return malformed('a context that is not an object');
    }
    const allow: Authorization = { kind: 'allow', authorizer: { lambda: context ?? null } };
    if (authorizer.enableSimpleResponses) {
      if (typeof response.isAuthorized !== 'boolean') return malformed('no boolean isAuthorized');
      return response.isAuthorized ? allow : { kind: 'deny', statusCode: 403 };
    }
    const decision = evaluatePolicy(response.policyDocument, routeArn);
    if (decision === 'invalid') return malformed('no valid policyDocument');
    return decision === 'allow' ? allow : { kind: 'deny', statusCode: 403 };
  }
}

/** `$context` variables of HTTP APIs that are not a path into requestContext as it is. */
const HTTP_CONTEXT_ALIASES: Record<string, string> = {
  httpMethod: 'http.method',
  path: 'http.path',
  protocol: 'http.protocol',
  'identity.sourceIp': 'http.sourceIp',
  'identity.userAgent': 'http.userAgent',
  requestTime: 'time',
  requestTimeEpoch: 'timeEpoch',
};

// biome-ignore lint/suspicious/noExplicitAny: the 2.0 event is read field by field
function httpLookup(event: Record<string, any>): IdentityLookup {
  return {
    header: (name) =>
      name.toLowerCase() === 'cookie' && Array.isArray(event.cookies)
        ? event.cookies.join('; ')
        : caseInsensitive(event.headers, name),
    query: (name) => event.queryStringParameters?.[name],
    stageVariable: (name) => event.stageVariables?.[name],
    context: (name) => pathValue(event.requestContext, HTTP_CONTEXT_ALIASES[name] ?? name),
  };
}

// ─── WebSocket APIs ───────────────────────────────────────────────────────────────────────────

/** What the `$connect` authorizer step needs. */
export interface WebSocketConnectAuthorization {
  readonly route: ApiRoute;
  readonly authorizers: readonly ApiAuthorizer[];
  /** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/$connect` */
  readonly methodArn: string;
  readonly stageVariables: Readonly<Record<string, string>>;
  /** The `$connect` integration event (headers, query, requestContext). */
  // biome-ignore lint/suspicious/noExplicitAny: the connect event is read field by field
  readonly event: Record<string, any>;
  readonly invoke: AuthorizerInvoke;
  readonly log: (message: string) => void;
}

/**
 * Runs the `$connect` route's Lambda authorizer. On Allow, `authorizer` is what every event of
 * the connection carries as `requestContext.authorizer`.
 */
export async function authorizeWebSocketConnect(
  input: WebSocketConnectAuthorization,
): Promise<Authorization> {
  const { route, event, methodArn, log } = input;
  if (route.authorizationType === 'NONE') return { kind: 'allow' };
  const authorizer = authorizerOf(route, input.authorizers);
  if ('unsupported' in authorizer) return { kind: 'unsupported', feature: authorizer.unsupported };

  const values = identityValues(authorizer.identitySource, {
    header: (name) => caseInsensitive(event.headers, name),
    query: (name) => event.queryStringParameters?.[name],
    stageVariable: (name) => input.stageVariables[name],
    context: (name) => pathValue(event.requestContext, name),
  });
  if (!values) return { kind: 'deny', statusCode: 401 };

  const started = Date.now();
  const outcome = await input.invoke(authorizer.uri as string, {
    type: 'REQUEST',
    methodArn,
    headers: event.headers,
    multiValueHeaders: event.multiValueHeaders,
    ...(event.queryStringParameters
      ? {
          queryStringParameters: event.queryStringParameters,
          multiValueQueryStringParameters: event.multiValueQueryStringParameters,
        }
      : {}),
    stageVariables: input.stageVariables,
    requestContext: event.requestContext,
  });
  const integrationLatency = Date.now() - started;
  const failed = failure(outcome);
  const fail = (why: string): Authorization => {
    log(`Local WebSocket API: authorizer ${authorizer.logicalId} ${why}; refusing the connection with 500`);
    return { kind: 'deny', statusCode: 500 };
  };
  if (threwUnauthorized(outcome)) return { kind: 'deny', statusCode: 401 };
  if (failed || outcome.kind !== 'ok') return fail(failed ?? 'failed');
  const response = outcome.payload;
  if (!isRecord(response)) return fail('answered something that is not an object');
  const decision = evaluatePolicy(response.policyDocument, methodArn);
  if (decision === 'invalid') return fail('answered no valid policyDocument');
  if (decision === 'deny') return { kind: 'deny', statusCode: 403 };
  if (typeof response.principalId !== 'string' || response.principalId === '') {
    return fail('answered no principalId');
  }
  const context = response.context ?? {};
  if (!isRecord(context)) return fail('answered a context that is not an object');
  // As for REST APIs, context values must be strings, numbers or booleans.
  const nested = Object.entries(context).find(([, v]) => v !== null && typeof v === 'object');
  if (nested) return fail(`answered a context whose '${nested[0]}' is not a string, number or boolean`);
  return {
    kind: 'allow',
    authorizer: { ...context, principalId: response.principalId, integrationLatency },
  };
}
