/**
 * `npm run bench:skeleton`: the walking skeleton's figures on this machine — `npm start` startup,
 * bundle size per function, cold starts, and ingest-to-WebSocket latency for one client.
 * Prints a table and records it in docs/benchmarks.md. Local figures: no network, no AWS.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { functionAssetDir, loadStackAssembly } from '../local/assembly';
import { startLocalRuntime } from '../local/runtime';
import { synthesize } from '../local/synth';
import { postJson, RecordingSocket, signIn, useToken, waitFor } from '../test/support/clients';
import { percentile, record } from './record';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
const ms = (value: number) => `${value.toFixed(1)} ms`;

const t0 = performance.now();
const assemblyDir = await synthesize();
const t1 = performance.now();
const initDurations = new Map<string, number>();
const runtime = await startLocalRuntime({
  assemblyDir,
  port: 0,
  agent: false,
  log: () => {},
  functionLog: (name, line) => {
    const init = /Init Duration: ([\d.]+) ms/.exec(line)?.[1];
    if (init) initDurations.set(name, Number(init));
  },
});
const t2 = performance.now();
useToken(await signIn(runtime));

try {
  const assembly = loadStackAssembly(assemblyDir);
  const bundles = Object.entries(assembly.template.Resources)
    .filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Runtime).startsWith('nodejs'),
    )
    .map(([id]) => {
      const file = path.join(functionAssetDir(assembly, id), 'index.mjs');
      return {
        id,
        raw: statSync(file).size,
        zipped: deflateRawSync(readFileSync(file), { level: 9 }).length,
      };
    });

  const socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
  const endToEnd: number[] = [];
  const request: number[] = [];
  for (let i = 0; i < SAMPLES + 5; i++) {
    const host = `bench-${randomUUID()}`;
    const sent = performance.now();
    const response = await postJson(`${runtime.urls.HttpApiUrl}/api/metrics`, {
      metrics: [{ name: 'cpu_usage', value: i % 100, labels: { host } }],
    });
    const answered = performance.now();
    if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
    await waitFor(
      () => socket.ofType('system_metrics').some((m) => (m.payload as { host: string }).host === host),
      'the broadcast',
    );
    const received = performance.now();
    if (i >= 5) {
      // The first few include cold starts; they are reported separately.
      endToEnd.push(received - sent);
      request.push(answered - sent);
    }
  }
  await socket.close();

  const rows = [
    '| figure | value |',
    '| --- | --- |',
    `| \`npm start\` path: web build + synth | ${ms(t1 - t0)} |`,
    `| engines + gateway ready (DynamoDB Local, fauxqs, EventBridge, workers) | ${ms(t2 - t1)} |`,
    `| total to URLs printed | ${ms(t2 - t0)} |`,
    ...bundles.map(
      (b) =>
        `| bundle ${b.id} | ${(b.raw / 1024).toFixed(0)} KB (${(b.zipped / 1024).toFixed(0)} KB deflated) |`,
    ),
    ...[...initDurations].map(([name, init]) => `| cold start (Init Duration) ${name} | ${ms(init)} |`),
    `| POST /api/metrics → 202, p50 / p95 (n=${request.length}) | ${ms(percentile(request, 50))} / ${ms(percentile(request, 95))} |`,
    `| POST → WebSocket message received, p50 / p95 / max (n=${endToEnd.length}) | ${ms(percentile(endToEnd, 50))} / ${ms(percentile(endToEnd, 95))} / ${ms(Math.max(...endToEnd))} |`,
  ].join('\n');
  console.log(rows);
  record(
    'skeleton',
    'npm run bench:skeleton',
    `Walking skeleton on the local runtime, one WebSocket client.\n\n${rows}`,
  );
} finally {
  await runtime.stop();
}
