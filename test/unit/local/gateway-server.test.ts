import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningGateway, startGateway } from '../../../local/gateway';
import { createResolver } from '../../../local/intrinsics';
import {
  FakeInvoker,
  inlineAssembly,
  ok,
  send,
  startTestGateway,
  webSocketApiResources,
} from './gateway-test-kit';

let gateway: RunningGateway | undefined;
let blocker: Server | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  const b = blocker;
  blocker = undefined;
  if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
});

describe('startGateway', () => {
  it('rejects with a one-line explanation when the port is taken', async () => {
    // Prepare
    const busy = createServer();
    blocker = busy;
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    const template = { Resources: {} };

    // Act
    const attempt = startGateway({
      port,
      assembly: inlineAssembly(template),
      resolver: createResolver({ template, stackName: 'TestStack' }),
      invoker: new FakeInvoker({}),
    });

    // Assess
    await expect(attempt).rejects.toThrow(`Port ${port} is in use; pass --port <n>`);
  });

  it('closes open WebSocket connections with Going away and runs their $disconnect on close', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Disconnect: () => ok({ statusCode: 200 }) });
    gateway = await startTestGateway(
      { Resources: webSocketApiResources([{ key: '$disconnect', fn: 'Disconnect' }]) },
      invoker,
    );
    const client = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws`);
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));

    // Act
    await gateway.close();
    gateway = undefined;

    // Assess
    expect(await closed).toBe(1001);
    expect(invoker.of('Disconnect')).toHaveLength(1);
  });

  it('refuses upgrades on paths other than /ws', async () => {
    // Prepare
    gateway = await startTestGateway({ Resources: webSocketApiResources([]) }, new FakeInvoker({}));
    const client = new WebSocket(`${gateway.url.replace('http', 'ws')}/elsewhere`);

    // Act
    const status = await new Promise<number | undefined>((resolve) => {
      client.once('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode);
      });
      client.once('open', () => resolve(undefined));
    });

    // Assess
    expect(status).toBe(404);
  });

  it('answers a non-GET request outside every route with the HTTP API’s 404', async () => {
    // Prepare
    gateway = await startTestGateway({ Resources: {} }, new FakeInvoker({}));

    // Act
    const res = await send(`${gateway.url}/anything`, { method: 'DELETE' });

    // Assess
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ message: 'Not Found' });
  });
});
