export { seededRandom } from '../../support/random';

/** Test doubles for the DOM-free web modules: a scripted WebSocket, a manual clock, a seeded random. */
import type { Scheduler, SocketLike } from '../../../web/src/connection';

type Listener = (event: never) => void;

/** A WebSocket whose life is driven by the test; every instance is recorded in `FakeSocket.instances`. */
export class FakeSocket implements SocketLike {
  static instances: FakeSocket[] = [];
  readonly sent: string[] = [];
  closedByClient: { code?: number; reason?: string } | null = null;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  static reset() {
    FakeSocket.instances = [];
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (!socket) throw new Error('no socket was created');
    return socket;
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }

  serverOpens() {
    this.emit('open', {});
  }

  serverSends(data: unknown) {
    this.emit('message', { data: typeof data === 'string' ? data : JSON.stringify(data) });
  }

  /** A failed connection as browsers report it: 'error', then 'close'. */
  serverCloses(code = 1006) {
    this.emit('error', {});
    this.emit('close', { code });
  }

  /** A failed connection reported with 'error' alone (Node's undici WebSocket does this). */
  serverErrors() {
    this.emit('error', {});
  }

  private emit(type: string, event: object) {
    for (const listener of this.listeners.get(type) ?? []) (listener as (event: object) => void)(event);
  }
}

/** Timers that fire only when the test advances time. */
export class ManualScheduler implements Scheduler {
  now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in order (including ones they schedule). */
  advance(ms: number) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.now = timer.at;
      timer.callback();
    }
    this.now = until;
  }
}
