/**
 * DOM output: which page shows (sign-in or dashboard), the signed-in user, two uPlot charts fed
 * with `setData`, the status badge, host and latest values.
 * The static skeleton lives in index.html; this module only finds its elements and updates them.
 * The sign-in form's content is login-form.ts's.
 */
import uPlot from 'uplot';
import type { ConnectionState } from './connection';
import { required } from './dom';
import type { SignedInUser } from './messages';
import { emptyState, type Freshness, type MetricsState, type SeriesColumns, type Status } from './state';

export interface ViewModel {
  readonly metrics: MetricsState;
  readonly connection: ConnectionState;
  readonly status: Status;
  /** Stale data is dimmed whatever the connection is doing. */
  readonly freshness: Freshness;
  /** A non-fatal problem worth showing (failed snapshot, server error frame); null when none. */
  readonly problem: string | null;
  readonly now: number;
}

/** `login`: the sign-in form alone; `dashboard`: the charts, the status badge and the account. */
export type Page = 'login' | 'dashboard';

/** Who is signed in: known, still being asked (`unknown`), or nobody (null). */
export type Account = SignedInUser | 'unknown' | null;

export interface View {
  /** Shows one page and hides the other; the one place that switches pages. */
  showPage(page: Page): void;
  showAccount(account: Account): void;
  /** Calls `handler` when the user presses Sign out. */
  onSignOut(handler: () => void): void;
  update(model: ViewModel): void;
  /** Empties the charts, values and problems, so the next person signing in sees none of them. */
  reset(): void;
  /** Replaces the dashboard with an error state; used when it cannot start (bad config). */
  fail(message: string): void;
}

const CHART_HEIGHT = 220;
const AXIS_COLOR = '#8b95a5';
const GRID_COLOR = 'rgba(255, 255, 255, 0.07)';

function percent(value: number | null | undefined): string {
  return value == null ? '–' : `${value.toFixed(1)} %`;
}

/** One chart panel: lazily creates its uPlot on the first data and keeps `data-points` current. */
class Chart {
  private plot: uPlot | null = null;
  private shown: readonly number[] | null = null;
  private readonly empty: HTMLElement;

  constructor(
    private readonly container: HTMLElement,
    private readonly label: string,
    private readonly color: string,
  ) {
    this.empty = required(container, `${container.dataset.testid}-empty`);
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
  }

  setData(times: readonly number[], values: readonly number[]) {
    if (values === this.shown) return;
    this.shown = values;
    const data: uPlot.AlignedData = [times.slice(), values.slice()];
    if (this.plot) this.plot.setData(data);
    else if (times.length > 0) this.plot = new uPlot(this.options(), data, this.container);
    this.container.dataset.points = String(times.length);
    this.empty.hidden = times.length > 0;
  }

  private size() {
    return { width: Math.max(this.container.clientWidth, 200), height: CHART_HEIGHT };
  }

  private options(): uPlot.Options {
    const axis: uPlot.Axis = {
      stroke: AXIS_COLOR,
      grid: { stroke: GRID_COLOR, width: 1 },
      ticks: { stroke: GRID_COLOR, width: 1 },
    };
    return {
      ...this.size(),
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [axis, { ...axis, size: 56, values: (_u, ticks) => ticks.map((tick) => `${tick}%`) }],
      series: [
        {},
        {
          label: this.label,
          stroke: this.color,
          width: 2,
          fill: `${this.color}26`,
          points: { show: false },
          value: (_u, value) => percent(value),
        },
      ],
    };
  }
}

/** Binds to the skeleton in `root` (the page's document). */
export function createView(root: Document): View {
  const body = root.body;
  const status = required<HTMLElement>(root, 'status');
  const hosts = required<HTMLElement>(root, 'hosts');
  const account = required<HTMLElement>(root, 'account');
  const accountUser = required<HTMLElement>(root, 'account-user');
  const signOut = required<HTMLButtonElement>(root, 'sign-out');
  const login = required<HTMLElement>(root, 'login');
  const host = required<HTMLElement>(root, 'host');
  const otherHosts = required<HTMLElement>(root, 'other-hosts');
  const banner = required<HTMLElement>(root, 'error');
  const dashboard = required<HTMLElement>(root, 'dashboard');
  const latestCpu = required<HTMLElement>(root, 'latest-cpu');
  const latestMemory = required<HTMLElement>(root, 'latest-memory');
  const latestLoad = required<HTMLElement>(root, 'latest-load');
  const updated = required<HTMLElement>(root, 'updated');
  const cpu = new Chart(required(root, 'chart-cpu'), 'CPU', '#4cc9f0');
  const memory = new Chart(required(root, 'chart-memory'), 'Memory', '#b388ff');

  function showStatus(kind: string, label: string) {
    status.textContent = label;
    status.className = `status status--${kind}`;
    body.dataset.status = kind;
  }

  function showProblem(message: string | null) {
    banner.textContent = message ?? '';
    banner.hidden = message === null;
  }

  const view: View = {
    showPage(page) {
      body.dataset.page = page;
      const onDashboard = page === 'dashboard';
      dashboard.hidden = !onDashboard;
      hosts.hidden = !onDashboard;
      status.hidden = !onDashboard;
      account.hidden = !onDashboard;
      login.hidden = onDashboard;
      if (!onDashboard) showProblem(null);
    },
    showAccount(who) {
      accountUser.textContent =
        who === null ? '' : who === 'unknown' ? 'Signed in' : `${who.username} (${who.role})`;
    },
    onSignOut(handler) {
      signOut.addEventListener('click', handler);
    },
    update({ metrics, connection, status: current, freshness, problem, now }) {
      body.dataset.connection = connection;
      showStatus(current.kind, current.label);
      showProblem(problem);
      dashboard.classList.toggle('is-stale', freshness === 'stale');

      host.textContent = metrics.host ?? 'No host yet';
      otherHosts.textContent = metrics.otherHosts.length
        ? `also reporting: ${metrics.otherHosts.join(', ')}`
        : '';
      otherHosts.hidden = metrics.otherHosts.length === 0;

      const { latest } = metrics;
      latestCpu.textContent = percent(latest?.cpu_usage);
      latestMemory.textContent = percent(latest?.memory_usage);
      latestLoad.textContent = latest?.load_avg_1m === undefined ? '–' : latest.load_avg_1m.toFixed(2);
      updated.textContent = latest ? describeAge(latest.timestamp, metrics.lastSeenAt, now) : '–';

      const [times, cpuValues, memoryValues]: SeriesColumns = metrics.columns;
      cpu.setData(times, cpuValues);
      memory.setData(times, memoryValues);
    },
    reset() {
      view.update({
        metrics: emptyState(),
        connection: 'connecting',
        status: { kind: 'connecting', label: 'Connecting…' },
        freshness: 'empty',
        problem: null,
        now: 0,
      });
    },
    fail(message) {
      body.dataset.connection = 'closed';
      showStatus('error', 'Error');
      status.hidden = false;
      showProblem(message);
      dashboard.hidden = true;
      login.hidden = true;
    },
  };
  return view;
}

function describeAge(timestamp: string, lastSeenAt: number | null, now: number): string {
  const time = new Date(timestamp).toLocaleTimeString();
  if (lastSeenAt === null) return time;
  const seconds = Math.max(0, Math.round((now - lastSeenAt) / 1000));
  return `${time} (${seconds} s ago)`;
}
