import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { principalOf } from './auth-context';
import { allows, ROUTE_ACCESS } from './domain/auth/roles';
import { MAX_REQUEST_BODY_BYTES } from './domain/ingest/limits';
import { ForbiddenError, PulseboardError, UnauthorizedError } from './errors';
import { errorResponse, isServerError } from './http';
import { logger } from './logger';

type HttpRoute = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;
type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * Turns a thrown error into the JSON error envelope. It runs as an `onError` middleware, after
 * the inner middlewares' own `onError` (middy runs them in reverse), so idempotency can release
 * its record before the error becomes a response.
 */
export function errorEnvelope(): HttpMiddleware {
  return {
    onError: async (request) => {
      const response = errorResponse(request.error);
      if (isServerError(response)) logger.error('Request failed', { error: request.error as Error });
      else
        logger.info('Request rejected', {
          status: response.statusCode,
          code: (request.error as { code?: string }).code,
        });
      request.response = response;
    },
  };
}

/**
 * The one place access is enforced: the route's entry in {@link ROUTE_ACCESS} against the caller
 * the authorizer identified. The authorizer only authenticates (its cached answer serves every
 * route), so the role check happens here, per route. A route missing from the table is refused.
 */
export function requireAccess(): HttpMiddleware {
  return {
    before: async (request) => {
      const { routeKey, requestContext } = request.event;
      const access = Object.hasOwn(ROUTE_ACCESS, routeKey) ? ROUTE_ACCESS[routeKey] : undefined;
      if (access === undefined) throw new ForbiddenError(`${routeKey} has no access rule`);
      if (access === 'public') return;
      const principal = principalOf(requestContext);
      if (!principal) throw new UnauthorizedError();
      if (!allows(principal, access)) {
        throw new ForbiddenError(
          principal.kind === 'api_key'
            ? `This API key's scope (${principal.scope}) does not cover ${routeKey}, which needs ${access}`
            : `${routeKey} needs the ${access} role; you are ${principal.role}`,
        );
      }
    },
  };
}

/** The largest body a route takes unless it says otherwise (ingest takes more). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const ROUTE_BODY_LIMITS: Readonly<Record<string, number>> = {
  'POST /api/metrics': MAX_REQUEST_BODY_BYTES,
  'POST /v1/metrics': MAX_REQUEST_BODY_BYTES,
};

/** Refuses an oversized body with 413 before anything parses it. */
export function limitBody(): HttpMiddleware {
  return {
    before: async (request) => {
      const { body, isBase64Encoded, routeKey } = request.event;
      if (!body) return;
      const bytes = isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
      const limit = Object.hasOwn(ROUTE_BODY_LIMITS, routeKey)
        ? (ROUTE_BODY_LIMITS[routeKey] as number)
        : DEFAULT_MAX_BODY_BYTES;
      if (bytes > limit) {
        throw new PulseboardError('PAYLOAD_TOO_LARGE', `${routeKey} takes bodies of at most ${limit} bytes`);
      }
    },
  };
}

/**
 * Wraps an HTTP API route: request-scoped structured logging, every thrown error answered with
 * the JSON error envelope, the route's access rule and body limit, and any route-specific
 * middlewares (e.g. idempotency) inside those.
 */
export function httpRoute(route: HttpRoute, ...middlewares: HttpMiddleware[]) {
  let handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorEnvelope())
    .use(requireAccess())
    .use(limitBody());
  for (const middleware of middlewares) handler = handler.use(middleware);
  return handler.handler(route);
}

/** Wraps a WebSocket route or any other event handler with request-scoped structured logging. */
export function eventHandler<E, R>(handle: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(handle);
}
