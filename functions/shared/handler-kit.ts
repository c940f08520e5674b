import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { errorResponse, isServerError } from './http';
import { logger } from './logger';

type HttpRoute = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Wraps an HTTP API route: request-scoped structured logging, and every thrown error turned into
 * the JSON error envelope (server errors logged with their detail, clients see a generic message).
 */
export function httpRoute(route: HttpRoute) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      try {
        return await route(event, context);
      } catch (error) {
        const response = errorResponse(error);
        if (isServerError(response)) logger.error('Request failed', { error: error as Error });
        else
          logger.info('Request rejected', {
            status: response.statusCode,
            code: (error as { code?: string }).code,
          });
        return response;
      }
    });
}

/** Wraps a WebSocket route or any other event handler with request-scoped structured logging. */
export function eventHandler<E, R>(handle: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(handle);
}
