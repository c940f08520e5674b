/** Wiring: config → snapshot → live socket → state → view. All decisions live in the modules it calls. */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { fetchHistory, fetchSnapshot, loadConfig } from './api';
import { type ConnectionStatus, createConnection } from './connection';
import type { ServerMessage, SystemMetrics } from './messages';
import { createView } from './render';
import { addSample, DEFAULT_WINDOW, deriveStatus, emptyState, freshness } from './state';

const CHANNELS = ['system_metrics'];

const view = createView(document);
let metrics = emptyState();
let connection: ConnectionStatus = { state: 'connecting', failures: 0, retryInMs: null };
let problem: string | null = null;

function render() {
  const now = Date.now();
  const fresh = freshness(metrics, now);
  view.update({
    metrics,
    connection: connection.state,
    status: deriveStatus(connection, fresh),
    freshness: fresh,
    problem,
    now,
  });
}

function ingest(sample: SystemMetrics, seenAt: number) {
  metrics = addSample(metrics, sample, seenAt);
  render();
}

function onMessage(message: ServerMessage) {
  switch (message.type) {
    case 'system_metrics':
      problem = null;
      ingest(message.payload, Date.now());
      break;
    case 'error':
      problem = `Server error ${message.payload.code}: ${message.payload.message}`;
      render();
      break;
    case 'subscribed':
      break;
  }
}

async function start() {
  const loaded = await loadConfig(fetch);
  if (!loaded.ok) {
    view.fail(`Cannot start: ${loaded.problem}.`);
    return;
  }
  const { httpApiUrl, webSocketUrl } = loaded.config;

  const live = createConnection({
    url: webSocketUrl,
    channels: CHANNELS,
    WebSocket,
    scheduler: {
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (id) => window.clearTimeout(id as number),
    },
    random: Math.random,
    onMessage,
    onStatus(status) {
      connection = status;
      render();
    },
    onRejected(rejection) {
      console.warn('Ignored a WebSocket frame:', rejection.reason, rejection.type ?? '');
    },
  });
  live.start();
  window.setInterval(render, 1_000);

  const snapshot = await fetchSnapshot(fetch, httpApiUrl);
  if (snapshot.kind === 'metrics') {
    // Old data counts as seen no later than its own timestamp, so an idle feed shows as stale.
    const seenAt = (sample: SystemMetrics) => Math.min(Date.now(), Date.parse(sample.timestamp));
    ingest(snapshot.metrics, seenAt(snapshot.metrics));
    const history = await fetchHistory(
      fetch,
      httpApiUrl,
      snapshot.metrics.host,
      DEFAULT_WINDOW.windowSec,
      Date.parse(snapshot.metrics.timestamp),
    );
    for (const sample of history) metrics = addSample(metrics, sample, seenAt(sample));
    render();
  } else if (snapshot.kind === 'error' && metrics.latest === null) {
    problem = snapshot.problem;
    render();
  }
}

render();
void start();
