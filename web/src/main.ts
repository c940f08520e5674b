/**
 * Wiring: config → a session (or the sign-in page) → snapshot → live socket → state → view.
 * All decisions live in the modules it calls.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { type Credentials, fetchHistory, fetchMe, fetchSnapshot, loadConfig, login, withBearer } from './api';
import { type ConnectionStatus, createConnection } from './connection';
import { createLoginView } from './login-form';
import {
  type DashboardConfig,
  type ServerMessage,
  type SystemMetrics,
  WEBSOCKET_SUBPROTOCOL,
} from './messages';
import { createView } from './render';
import { createSessionStore, expiryDelayMs, type Session, type StorageLike } from './session';
import { addSample, DEFAULT_WINDOW, deriveStatus, emptyState, freshness } from './state';

const CHANNELS = ['system_metrics'];
const SESSION_EXPIRED = 'Your session has expired. Sign in again.';
const SESSION_ENDED = 'Your session is no longer valid. Sign in again.';
const SIGNED_OUT = 'You have signed out.';

/** `window.sessionStorage`, or null where the browser refuses storage (it throws on access). */
function browserSessionStorage(): StorageLike | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

const view = createView(document);
const sessions = createSessionStore(browserSessionStorage(), Date.now);

/** A running dashboard for one session; `end` stops everything it started. */
interface OpenDashboard {
  end(notice: string): void;
}

/**
 * Starts the dashboard for `session`: the account, the snapshot and history, the live socket and
 * the session's expiry timer. A refused token (a 401/403 answer, a refused handshake confirmed by
 * `/auth/me`, or the expiry time) ends it: the token is forgotten and `onEnded` shows the sign-in page.
 */
function openDashboard(
  session: Session,
  { httpApiUrl, webSocketUrl }: DashboardConfig,
  onEnded: (notice: string) => void,
): OpenDashboard {
  let metrics = emptyState();
  let connection: ConnectionStatus = { state: 'connecting', failures: 0, retryInMs: null };
  let problem: string | null = null;
  let ended = false;
  let checkingToken = false;

  const api = withBearer(fetch, session.token, () => end(SESSION_ENDED));

  function render() {
    if (ended) return;
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

  /** After a failed handshake: a 401/403 from `/auth/me` ends the session (through `api`). */
  async function checkToken() {
    if (checkingToken || ended) return;
    checkingToken = true;
    await fetchMe(api, httpApiUrl);
    checkingToken = false;
  }

  const live = createConnection({
    url: webSocketUrl,
    protocols: [WEBSOCKET_SUBPROTOCOL, session.token],
    channels: CHANNELS,
    WebSocket,
    scheduler: {
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (id) => window.clearTimeout(id as number),
    },
    random: Math.random,
    onMessage(message) {
      if (!ended) onMessage(message);
    },
    onStatus(status) {
      connection = status;
      render();
    },
    onOpenFailed() {
      void checkToken();
    },
    onRejected(rejection) {
      console.warn('Ignored a WebSocket frame:', rejection.reason, rejection.type ?? '');
    },
  });

  const ticker = window.setInterval(render, 1_000);
  let expiryTimer = 0;
  const armExpiry = () => {
    expiryTimer = window.setTimeout(
      () => (expiryDelayMs(session, Date.now()) > 0 ? armExpiry() : end(SESSION_EXPIRED)),
      expiryDelayMs(session, Date.now()),
    );
  };

  function end(notice: string) {
    if (ended) return;
    ended = true;
    window.clearInterval(ticker);
    window.clearTimeout(expiryTimer);
    live.close();
    sessions.clear();
    view.reset();
    view.showAccount(null);
    onEnded(notice);
  }

  async function loadAccount() {
    const me = await fetchMe(api, httpApiUrl);
    if (!ended && me.kind === 'user') view.showAccount(me.user);
  }

  async function loadSnapshot() {
    const snapshot = await fetchSnapshot(api, httpApiUrl);
    if (ended) return;
    if (snapshot.kind === 'metrics') {
      // Old data counts as seen no later than its own timestamp, so an idle feed shows as stale.
      const seenAt = (sample: SystemMetrics) => Math.min(Date.now(), Date.parse(sample.timestamp));
      ingest(snapshot.metrics, seenAt(snapshot.metrics));
      const history = await fetchHistory(
        api,
        httpApiUrl,
        snapshot.metrics.host,
        DEFAULT_WINDOW.windowSec,
        Date.parse(snapshot.metrics.timestamp),
      );
      if (ended) return;
      for (const sample of history) metrics = addSample(metrics, sample, seenAt(sample));
      render();
    } else if (snapshot.kind === 'error' && metrics.latest === null) {
      problem = snapshot.problem;
      render();
    }
  }

  view.showAccount('unknown');
  render();
  armExpiry();
  live.start();
  void loadAccount();
  void loadSnapshot();
  return { end };
}

async function start() {
  const loaded = await loadConfig(fetch);
  if (!loaded.ok) {
    view.fail(`Cannot start: ${loaded.problem}.`);
    return;
  }
  const config = loaded.config;
  let dashboard: OpenDashboard | null = null;

  const showLogin = (notice: string | null) => {
    dashboard = null;
    view.showPage('login');
    loginView.open(notice);
  };

  const enter = (session: Session) => {
    view.showPage('dashboard');
    dashboard = openDashboard(session, config, showLogin);
  };

  const loginView = createLoginView(document, async (credentials: Credentials) => {
    const result = await login(fetch, config.httpApiUrl, credentials);
    if (result.kind === 'ok') enter(sessions.save(result.token, result.expiresInSec));
    return result;
  });
  view.onSignOut(() => dashboard?.end(SIGNED_OUT));

  const session = sessions.current();
  if (session) enter(session);
  else showLogin(null);
}

void start();
