import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Batch, Spool } from '../../../agent/spool';

const batch = (n: number, points = 1): Batch => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  createdAt: 1_700_000_000_000 + n,
  metrics: Array.from({ length: points }, () => ({
    name: 'cpu_usage',
    value: n,
    timestamp: 1_700_000_000_000 + n,
    labels: { host: 'h' },
  })),
});

describe('spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pulseboard-spool-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps batches oldest first, across a reopen, until they are acknowledged', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    const first = await spool.append(batch(1));
    await spool.append(batch(2));
    await spool.append(batch(3));
    await spool.ack(first);

    const reopened = await Spool.open({ dir, maxBytes: 1e9 });
    const appended = await reopened.append(batch(4));

    expect(reopened.entries.map((entry) => entry.id)).toEqual([batch(2).id, batch(3).id, batch(4).id]);
    expect(appended.seq).toBeGreaterThan(reopened.entries[1]?.seq ?? Number.POSITIVE_INFINITY);
    const oldest = reopened.oldest();
    expect(oldest && (await reopened.read(oldest))).toEqual(batch(2));
  });

  it('ignores and cleans up a half-written temporary file and unrelated files', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    await spool.append(batch(1));
    const torn = `0000000000000002-${batch(2).id}.json.tmp`;
    await writeFile(path.join(dir, torn), '{"id":"00000000-0000-4000-8000-0000');
    await writeFile(path.join(dir, 'README'), 'not a batch');

    const reopened = await Spool.open({ dir, maxBytes: 1e9 });

    expect(reopened.entries.map((entry) => entry.id)).toEqual([batch(1).id]);
    expect(await readdir(dir)).not.toContain(torn);
  });

  it('drops an unreadable batch file with a warning instead of blocking the queue', async () => {
    const lines: string[] = [];
    await writeFile(path.join(dir, `0000000000000001-${batch(1).id}.json`), '{not json');
    const spool = await Spool.open({ dir, maxBytes: 1e9, log: (line) => lines.push(line) });
    const entry = spool.oldest();

    expect(entry && (await spool.read(entry))).toBeUndefined();
    expect(spool.entries).toEqual([]);
    expect(lines).toEqual([expect.stringContaining('unreadable')]);
  });

  it('drops the oldest batches with a warning when over the size cap, always keeping the newest', async () => {
    const lines: string[] = [];
    const probe = await Spool.open({ dir: path.join(dir, 'probe'), maxBytes: 1e9 });
    const size = (await probe.append(batch(1, 10))).bytes;
    const spool = await Spool.open({
      dir: path.join(dir, 'capped'),
      maxBytes: size * 3,
      log: (l) => lines.push(l),
    });

    for (let n = 1; n <= 5; n++) await spool.append(batch(n, 10));

    expect(spool.entries.map((entry) => entry.id)).toEqual([batch(3).id, batch(4).id, batch(5).id]);
    expect(spool.bytes).toBeLessThanOrEqual(size * 3);
    expect(await readdir(path.join(dir, 'capped'))).toHaveLength(3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('dropped the 1 oldest');

    const tiny = await Spool.open({ dir: path.join(dir, 'tiny'), maxBytes: 1 });
    await tiny.append(batch(1));
    await tiny.append(batch(2));
    expect(tiny.entries.map((entry) => entry.id)).toEqual([batch(2).id]);
  });

  it('treats acknowledging a batch the cap already dropped as done', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 });
    const first = await spool.append(batch(1));
    await spool.append(batch(2));

    await spool.ack(first);

    expect(spool.entries.map((entry) => entry.id)).toEqual([batch(2).id]);
    expect(await spool.read(first)).toBeUndefined();
  });
});
