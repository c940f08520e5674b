import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { MetricPoint } from './collectors';

/** One collected batch: the unit the agent spools, sends and acknowledges. */
export interface Batch {
  /** A UUID, sent as the `Idempotency-Key` of every attempt to deliver this batch. */
  readonly id: string;
  /** Epoch milliseconds when it was collected. */
  readonly createdAt: number;
  readonly metrics: readonly MetricPoint[];
}

/** A batch on disk; `seq` orders batches oldest first, across restarts. */
export interface SpoolEntry {
  readonly seq: number;
  readonly id: string;
  readonly file: string;
  readonly bytes: number;
}

export interface SpoolOptions {
  readonly dir: string;
  /** When the spooled batches exceed this, the oldest are dropped (the newest is always kept). */
  readonly maxBytes: number;
  readonly log?: (line: string) => void;
}

const BATCH_FILE = /^(\d{16})-([0-9a-f-]{36})\.json$/;
const TEMP_SUFFIX = '.tmp';

/**
 * The agent's disk buffer: one JSON file per batch, named `<seq>-<id>.json`. A batch is written to
 * a temporary file, flushed to disk and renamed into place, so a crash leaves either the whole
 * batch or an ignored `.tmp` leftover, never half a batch. Batches leave only through `ack` (after
 * a 2xx or a permanent rejection) or, oldest first, when the size cap is exceeded.
 */
export class Spool {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly log: (line: string) => void;
  private readonly index: SpoolEntry[];
  private nextSeq: number;
  private totalBytes: number;

  private constructor(options: SpoolOptions, index: SpoolEntry[]) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.log = options.log ?? (() => {});
    this.index = index;
    this.nextSeq = (index.at(-1)?.seq ?? 0) + 1;
    this.totalBytes = index.reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** Opens (creating if needed) a spool directory, indexing the batches a previous run left. */
  static async open(options: SpoolOptions): Promise<Spool> {
    await mkdir(options.dir, { recursive: true });
    const index: SpoolEntry[] = [];
    for (const name of await readdir(options.dir)) {
      const file = path.join(options.dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        // A write that never completed: its batch was never acknowledged as spooled.
        await rm(file, { force: true });
        continue;
      }
      const match = BATCH_FILE.exec(name);
      if (!match?.[1] || !match[2]) continue;
      const { size } = await stat(file);
      index.push({ seq: Number(match[1]), id: match[2], file, bytes: size });
    }
    index.sort((a, b) => a.seq - b.seq);
    return new Spool(options, index);
  }

  /** The spooled batches, oldest first. */
  get entries(): readonly SpoolEntry[] {
    return this.index;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  oldest(): SpoolEntry | undefined {
    return this.index[0];
  }

  /** Writes a batch durably, then enforces the size cap. Resolves once the batch is on disk. */
  async append(batch: Batch): Promise<SpoolEntry> {
    const seq = this.nextSeq++;
    const file = path.join(this.dir, `${String(seq).padStart(16, '0')}-${batch.id}.json`);
    const text = JSON.stringify(batch);
    const temp = `${file}${TEMP_SUFFIX}`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);

    const entry: SpoolEntry = { seq, id: batch.id, file, bytes: Buffer.byteLength(text) };
    let at = this.index.length;
    while (at > 0 && (this.index[at - 1]?.seq ?? 0) > seq) at--;
    this.index.splice(at, 0, entry);
    this.totalBytes += entry.bytes;
    await this.enforceCap();
    return entry;
  }

  /**
   * Reads a spooled batch. A file that is gone (dropped by the cap meanwhile) reads as undefined;
   * one that does not parse is removed with a logged warning, so it cannot block the queue.
   */
  async read(entry: SpoolEntry): Promise<Batch | undefined> {
    let text: string;
    try {
      text = await readFile(entry.file, 'utf8');
    } catch {
      this.forget(entry);
      return undefined;
    }
    try {
      const batch = JSON.parse(text) as Batch;
      if (typeof batch.id === 'string' && Array.isArray(batch.metrics)) return batch;
    } catch {
      // Reported below.
    }
    this.log(`agent: dropping unreadable buffered batch ${path.basename(entry.file)}`);
    await this.ack(entry);
    return undefined;
  }

  /** Removes a batch that was delivered (or permanently rejected). Idempotent. */
  async ack(entry: SpoolEntry): Promise<void> {
    this.forget(entry);
    await rm(entry.file, { force: true });
  }

  private forget(entry: SpoolEntry): void {
    const at = this.index.findIndex((candidate) => candidate.seq === entry.seq);
    if (at < 0) return;
    this.index.splice(at, 1);
    this.totalBytes -= entry.bytes;
  }

  private async enforceCap(): Promise<void> {
    const dropped: SpoolEntry[] = [];
    while (this.totalBytes > this.maxBytes && this.index.length > 1) {
      const oldest = this.index[0];
      if (!oldest) break;
      dropped.push(oldest);
      await this.ack(oldest);
    }
    if (dropped.length === 0) return;
    const megabytes = (this.maxBytes / 1024 / 1024).toFixed(1);
    this.log(
      `agent: WARNING buffer over its ${megabytes} MB cap; dropped the ${dropped.length} oldest batch(es) ` +
        `(${this.index.length} still buffered)`,
    );
  }
}
