import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES, httpRoute } from '../../../functions/shared/handler-kit';
import { json } from '../../../functions/shared/http';

const CONTEXT = {
  functionName: 'test',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

const editor = { lambda: { kind: 'user', subject: 'ed', role: 'editor' } };

function event(routeKey: string, body: string): APIGatewayProxyEventV2 {
  const [method = 'POST', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body,
    isBase64Encoded: false,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      authorizer: editor,
      routeKey,
    },
  } as unknown as APIGatewayProxyEventV2;
}

describe('body limits', () => {
  const handler = httpRoute(async () => json(200, { ok: true }));

  it('answers 413 with the error envelope when a body is over the route limit, before the route runs', async () => {
    const response = (await handler(
      event('POST /api/silences', 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1)),
      CONTEXT,
    )) as {
      statusCode: number;
      body: string;
    };
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('lets ingest take batches larger than the default limit', async () => {
    const response = (await handler(
      event('POST /api/metrics', 'x'.repeat(DEFAULT_MAX_BODY_BYTES * 4)),
      CONTEXT,
    )) as {
      statusCode: number;
    };
    expect(response.statusCode).toBe(200);
  });

  it('counts bytes, not characters', async () => {
    const response = (await handler(
      event('POST /api/silences', 'é'.repeat(DEFAULT_MAX_BODY_BYTES / 2 + 1)),
      CONTEXT,
    )) as {
      statusCode: number;
    };
    expect(response.statusCode).toBe(413);
  });
});
