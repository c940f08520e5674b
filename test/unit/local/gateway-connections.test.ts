import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningGateway } from '../../../local/gateway';
import {
  eventually,
  FakeInvoker,
  ok,
  send,
  startTestGateway,
  webSocketApiResources,
} from './gateway-test-kit';

let gateway: RunningGateway | undefined;
let sdk: ApiGatewayManagementApiClient | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  sdk?.destroy();
  sdk = undefined;
  for (const c of clients.splice(0)) c.terminate();
  await gateway?.close();
  gateway = undefined;
});

/** A gateway with $connect/$disconnect, a connected client and the real management API client. */
async function connected(limits: Record<string, number> = {}) {
  const invoker = new FakeInvoker({
    Connect: () => ok({ statusCode: 200 }),
    Disconnect: () => ok({ statusCode: 200 }),
  });
  gateway = await startTestGateway(
    {
      Resources: webSocketApiResources([
        { key: '$connect', fn: 'Connect' },
        { key: '$disconnect', fn: 'Disconnect' },
      ]),
    },
    invoker,
    { limits },
  );
  sdk = new ApiGatewayManagementApiClient({
    endpoint: `${gateway.url}/ws`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const client = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws`, {
    headers: { 'User-Agent': 'dash/1' },
  });
  clients.push(client);
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  const connectionId: string = invoker.of('Connect')[0]?.event.requestContext.connectionId;
  return { invoker, client, connectionId, sdk };
}

describe('@connections management API', () => {
  it('delivers PostToConnection data to the client', async () => {
    // Prepare
    const { client, connectionId, sdk } = await connected();
    const received = new Promise<{ data: string; isBinary: boolean }>((resolve) =>
      client.once('message', (data, isBinary) => resolve({ data: data.toString(), isBinary })),
    );

    // Act
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"metric":"cpu","v":0.5}' }),
    );

    // Assess
    expect(await received).toEqual({ data: '{"metric":"cpu","v":0.5}', isBinary: false });
  });

  it('describes a connection with GetConnection', async () => {
    // Prepare
    const { connectionId, sdk } = await connected();

    // Act
    const out = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));

    // Assess
    expect(out.ConnectedAt).toBeInstanceOf(Date);
    expect(out.LastActiveAt).toBeInstanceOf(Date);
    expect(out.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'dash/1' });
  });

  it('closes the socket on DeleteConnection, runs $disconnect, then answers GoneException', async () => {
    // Prepare
    const { client, connectionId, sdk, invoker } = await connected();
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));

    // Act
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));

    // Assess
    expect(await closed).toBe(1000);
    await eventually(() => expect(invoker.of('Disconnect')).toHaveLength(1));
    await expect(
      sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' })),
    ).rejects.toBeInstanceOf(GoneException);
  });

  it.each([
    ['PostToConnection', (id: string) => new PostToConnectionCommand({ ConnectionId: id, Data: 'x' })],
    ['GetConnection', (id: string) => new GetConnectionCommand({ ConnectionId: id })],
    ['DeleteConnection', (id: string) => new DeleteConnectionCommand({ ConnectionId: id })],
  ])('answers %s for an unknown connection with GoneException', async (_name, command) => {
    // Prepare
    const { sdk } = await connected();

    // Act
    const attempt = sdk.send(command('AAAAAAAAAAAAAAA=') as PostToConnectionCommand);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(GoneException);
  });

  it('answers GoneException once a client has dropped without a close frame', async () => {
    // Prepare
    const { client, connectionId, sdk } = await connected();

    // Act
    client.terminate();

    // Assess
    await eventually(() =>
      expect(
        sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x' })),
      ).rejects.toBeInstanceOf(GoneException),
    );
  });

  it('refuses data over the 128 KB quota with PayloadTooLargeException', async () => {
    // Prepare
    const { connectionId, sdk } = await connected();

    // Act
    const attempt = sdk.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * 1024 + 1, 0x61) }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PayloadTooLargeException);
  });

  it('accepts data of exactly 128 KB', async () => {
    // Prepare
    const { client, connectionId, sdk } = await connected();
    const received = new Promise<number>((resolve) =>
      client.once('message', (data: Buffer) => resolve(data.length)),
    );

    // Act
    await sdk.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * 1024, 0x61) }),
    );

    // Assess
    expect(await received).toBe(128 * 1024);
  });

  it('refuses an unsigned call with ForbiddenException', async () => {
    // Prepare
    const { connectionId, sdk } = await connected();
    // Strip the SigV4 header just before the request leaves, after signing.
    sdk.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string> };
        delete request.headers.authorization;
        return next(args);
      },
      { step: 'deserialize', name: 'stripAuthorization', priority: 'low' },
    );

    // Act
    const attempt = sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ForbiddenException);
    const raw = await send(`${gateway?.url}/ws/@connections/${encodeURIComponent(connectionId)}`);
    expect(raw.status).toBe(403);
    expect(raw.headers['x-amzn-errortype']).toBe('ForbiddenException');
  });
});
