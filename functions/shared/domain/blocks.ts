/**
 * Binary encodings of the items the metrics table stores (see docs/storage.md):
 * - segments: what ingest writes, one gzip'd columnar JSON per request and arrival minute;
 * - raw blocks: one series' points over 10 minutes, delta-of-delta timestamps and compact values;
 * - rollup blocks: per-minute (an hour of slots) or per-hour summaries with sketches.
 *
 * Numbers are written by a column codec that stores decimal-looking values (12.5, 48.25, 1042) as
 * scaled integers with zig-zag varint deltas, and anything else as IEEE-754 doubles, so both are
 * lossless.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Stats } from './rollup';
import { Sketch } from './sketch';

/** A point of one series inside a segment or block. */
export interface SeriesPoint {
  readonly id: string;
  readonly t: number;
  readonly v: number;
}

// ---- bytes ---------------------------------------------------------------------------------------

class Writer {
  private bytes: number[] = [];
  varint(n: number): void {
    let value = n;
    while (value >= 0x80) {
      this.bytes.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.bytes.push(value);
  }
  zigzag(n: number): void {
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  byte(n: number): void {
    this.bytes.push(n & 0xff);
  }
  float64(n: number): void {
    const buffer = Buffer.allocUnsafe(8);
    buffer.writeDoubleLE(n);
    for (const b of buffer) this.bytes.push(b);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

class Reader {
  private offset = 0;
  private readonly view: Buffer;
  constructor(bytes: Uint8Array) {
    this.view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.view[this.offset++];
      if (b === undefined) throw new RangeError('truncated block');
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
  }
  zigzag(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  byte(): number {
    const b = this.view[this.offset++];
    if (b === undefined) throw new RangeError('truncated block');
    return b;
  }
  float64(): number {
    const value = this.view.readDoubleLE(this.offset);
    this.offset += 8;
    return value;
  }
}

// ---- number columns ----------------------------------------------------------------------------

const FLOAT_MODE = 0xff;
const MAX_SCALE = 6;
const MAX_SCALED = 2 ** 51;

/** The smallest decimal scale k ≤ 6 that represents every value exactly, or undefined. */
function decimalScale(values: readonly number[]): number | undefined {
  for (let k = 0; k <= MAX_SCALE; k++) {
    const factor = 10 ** k;
    if (
      values.every((v) => {
        const scaled = Math.round(v * factor);
        return Math.abs(scaled) < MAX_SCALED && scaled / factor === v;
      })
    ) {
      return k;
    }
  }
  return undefined;
}

function writeNumbers(w: Writer, values: readonly number[]): void {
  const scale = decimalScale(values);
  if (scale === undefined) {
    w.byte(FLOAT_MODE);
    for (const v of values) w.float64(v);
    return;
  }
  w.byte(scale);
  const factor = 10 ** scale;
  let previous = 0;
  for (const v of values) {
    const scaled = Math.round(v * factor);
    w.zigzag(scaled - previous);
    previous = scaled;
  }
}

function readNumbers(r: Reader, count: number): number[] {
  const mode = r.byte();
  const values: number[] = [];
  if (mode === FLOAT_MODE) {
    for (let i = 0; i < count; i++) values.push(r.float64());
    return values;
  }
  const factor = 10 ** mode;
  let previous = 0;
  for (let i = 0; i < count; i++) {
    previous += r.zigzag();
    values.push(previous / factor);
  }
  return values;
}

// ---- sketches ----------------------------------------------------------------------------------

function writeStore(w: Writer, store: ReadonlyMap<number, number>): void {
  const indexes = [...store.keys()].sort((a, b) => a - b);
  w.varint(indexes.length);
  let previous = 0;
  indexes.forEach((index, i) => {
    if (i === 0) w.zigzag(index);
    else w.varint(index - previous);
    previous = index;
    w.varint(store.get(index) ?? 0);
  });
}

function readStore(r: Reader, store: Map<number, number>): void {
  const n = r.varint();
  let index = 0;
  for (let i = 0; i < n; i++) {
    index = i === 0 ? r.zigzag() : index + r.varint();
    store.set(index, r.varint());
  }
}

function writeSketch(w: Writer, sketch: Sketch): void {
  w.varint(sketch.zeroCount);
  writeStore(w, sketch.positive);
  writeStore(w, sketch.negative);
}

function readSketch(r: Reader): Sketch {
  const sketch = new Sketch();
  sketch.zeroCount = r.varint();
  readStore(r, sketch.positive);
  readStore(r, sketch.negative);
  return sketch;
}

/** A sketch alone, e.g. to measure its size. */
export function encodeSketch(sketch: Sketch): Uint8Array {
  const w = new Writer();
  writeSketch(w, sketch);
  return w.done();
}

export function decodeSketch(bytes: Uint8Array): Sketch {
  return readSketch(new Reader(bytes));
}

// ---- raw blocks --------------------------------------------------------------------------------

/** Encodes time-ordered points with distinct timestamps ≥ `blockStart`. */
export function encodeRawBlock(
  blockStart: number,
  points: readonly (readonly [number, number])[],
): Uint8Array {
  const w = new Writer();
  w.varint(points.length);
  let previousT = blockStart;
  let previousDelta = 0;
  points.forEach(([t], i) => {
    const delta = t - previousT;
    if (i === 0) w.varint(delta);
    else w.zigzag(delta - previousDelta);
    previousDelta = delta;
    previousT = t;
  });
  writeNumbers(
    w,
    points.map(([, v]) => v),
  );
  return w.done();
}

export function decodeRawBlock(blockStart: number, bytes: Uint8Array): [number, number][] {
  const r = new Reader(bytes);
  const n = r.varint();
  const times: number[] = [];
  let t = blockStart;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    delta = i === 0 ? r.varint() : delta + r.zigzag();
    t += delta;
    times.push(t);
  }
  const values = readNumbers(r, n);
  return times.map((time, i) => [time, values[i] as number]);
}

// ---- rollups -----------------------------------------------------------------------------------

/** Encodes summaries keyed by slot (minute of the hour for 1m blocks, 0 for an hourly item). */
export function encodeRollup(slots: ReadonlyMap<number, Stats>): Uint8Array {
  const w = new Writer();
  const entries = [...slots].sort((a, b) => a[0] - b[0]);
  w.varint(entries.length);
  let previous = 0;
  for (const [slot] of entries) {
    w.varint(slot - previous);
    previous = slot;
  }
  for (const [, s] of entries) w.varint(s.count);
  for (const field of ['sum', 'min', 'max', 'first', 'last', 'inc'] as const) {
    writeNumbers(
      w,
      entries.map(([, s]) => s[field]),
    );
  }
  for (const [, s] of entries) writeSketch(w, s.sketch);
  return w.done();
}

export function decodeRollup(bytes: Uint8Array): Map<number, Stats> {
  const r = new Reader(bytes);
  const n = r.varint();
  const slots: number[] = [];
  let slot = 0;
  for (let i = 0; i < n; i++) {
    slot += r.varint();
    slots.push(slot);
  }
  const counts = slots.map(() => r.varint());
  const columns = Object.fromEntries(
    (['sum', 'min', 'max', 'first', 'last', 'inc'] as const).map((field) => [field, readNumbers(r, n)]),
  ) as Record<'sum' | 'min' | 'max' | 'first' | 'last' | 'inc', number[]>;
  const result = new Map<number, Stats>();
  slots.forEach((s, i) => {
    result.set(s, {
      count: counts[i] as number,
      sum: columns.sum[i] as number,
      min: columns.min[i] as number,
      max: columns.max[i] as number,
      first: columns.first[i] as number,
      last: columns.last[i] as number,
      inc: columns.inc[i] as number,
      sketch: readSketch(r),
    });
  });
  return result;
}

// ---- segments ----------------------------------------------------------------------------------

/** Segment chunks stay below this so an item (with its keys) is far under DynamoDB's 400 KB. */
export const MAX_SEGMENT_BYTES = 350 * 1024;

interface SegmentJson {
  /** Series ids, each once. */
  d: string[];
  /** Per point: index into `d`. */
  s: number[];
  /** Per point: timestamp minus the previous point's (the first minus `b`). */
  t: number[];
  b: number;
  v: number[];
}

function segmentJson(points: readonly SeriesPoint[]): SegmentJson {
  const dictionary = new Map<string, number>();
  const json: SegmentJson = { d: [], s: [], t: [], b: points[0]?.t ?? 0, v: [] };
  let previous = json.b;
  for (const p of points) {
    let index = dictionary.get(p.id);
    if (index === undefined) {
      index = json.d.length;
      dictionary.set(p.id, index);
      json.d.push(p.id);
    }
    json.s.push(index);
    json.t.push(p.t - previous);
    previous = p.t;
    json.v.push(p.v);
  }
  return json;
}

/** Gzip'd columnar chunks of a request's points, each below MAX_SEGMENT_BYTES. */
export function encodeSegment(points: readonly SeriesPoint[], maxBytes = MAX_SEGMENT_BYTES): Uint8Array[] {
  const bytes = gzipSync(JSON.stringify(segmentJson(points)), { level: 9 });
  if (bytes.byteLength <= maxBytes || points.length <= 1) return [bytes];
  const half = Math.ceil(points.length / 2);
  return [...encodeSegment(points.slice(0, half), maxBytes), ...encodeSegment(points.slice(half), maxBytes)];
}

export function decodeSegment(bytes: Uint8Array): SeriesPoint[] {
  const json = JSON.parse(gunzipSync(bytes).toString('utf8')) as SegmentJson;
  let t = json.b;
  return json.s.map((index, i) => {
    t += json.t[i] as number;
    return { id: json.d[index] as string, t, v: json.v[i] as number };
  });
}

// ---- layout: windows and keys --------------------------------------------------------------------

export const SECOND_MS = 1000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Segment partitions per arrival minute: spreads ingest writes over 8 partitions. */
export const SEGMENT_SHARDS = 8;
/** Segments are re-read by the compactor and by queries for a while, then expire. */
export const SEGMENT_TTL_SECONDS = 24 * 60 * 60;
/** An arrival minute m is closed (no write can still land in it) once m + 60 s + this ≤ now. */
export const ARRIVAL_GRACE_MS = 30_000;
/** Points arriving up to this long after their block's end are still on time (written once). */
export const ON_TIME_AFTER_MS = MINUTE_MS;
/** Points arriving up to this long before their block's start are still on time (agent clock skew). */
export const ON_TIME_BEFORE_MS = 2 * MINUTE_MS;

export type BlockKind = 'raw' | 'm1' | 'h1';
export const BLOCK_KINDS: readonly BlockKind[] = ['raw', 'm1', 'h1'];

/** How much time one block of each kind covers. */
export const BLOCK_SPAN_MS: Readonly<Record<BlockKind, number>> = {
  raw: 10 * MINUTE_MS,
  m1: HOUR_MS,
  h1: HOUR_MS,
};

/** The start of the block of a kind holding time t. */
export function blockStart(kind: BlockKind, t: number): number {
  const span = BLOCK_SPAN_MS[kind];
  return Math.floor(t / span) * span;
}

/** The watermark at which a block is finalized: every on-time arrival minute is closed. */
export function finalizedAt(kind: BlockKind, start: number): number {
  return start + BLOCK_SPAN_MS[kind] + ON_TIME_AFTER_MS;
}

/** Whether a point arriving in minute m is part of its block's one-time finalization write. */
export function arrivesOnTime(kind: BlockKind, start: number, m: number): boolean {
  return m >= start - ON_TIME_BEFORE_MS && m < finalizedAt(kind, start);
}

/** The first block start of a kind that is not finalized at watermark w. */
export function firstOpenBlock(kind: BlockKind, w: number): number {
  const span = BLOCK_SPAN_MS[kind];
  return Math.floor((w - ON_TIME_AFTER_MS - span) / span) * span + span;
}

/**
 * Whether a point from arrival minute m is already inside the blocks of a kind at watermark w:
 * on-time points once their block is finalized, early or late points once their minute closed.
 */
export function isCompacted(kind: BlockKind, t: number, m: number, w: number): boolean {
  const start = blockStart(kind, t);
  return arrivesOnTime(kind, start, m) ? finalizedAt(kind, start) <= w : m < w;
}

/** The watermark for a clock reading: every arrival minute before it is closed. */
export function closedBefore(now: number): number {
  return Math.floor((now - ARRIVAL_GRACE_MS) / MINUTE_MS) * MINUTE_MS;
}

export const minuteOf = (t: number) => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** Sort keys are zero-padded epoch milliseconds so string order is time order. */
export const timeSortKey = (t: number) => String(t).padStart(13, '0');

/** The partition and sort key of a block. */
export function blockKey(kind: BlockKind, seriesId: string, start: number): { pk: string; sk: string } {
  const iso = new Date(start).toISOString();
  const pk =
    kind === 'raw'
      ? `R#${seriesId}#${iso.slice(0, 10)}`
      : kind === 'm1'
        ? `M#${seriesId}#${iso.slice(0, 7)}`
        : `H#${seriesId}`;
  return { pk, sk: timeSortKey(start) };
}

/** The partitions of a series' blocks of a kind that may hold [from, to). */
export function blockPartitions(kind: BlockKind, seriesId: string, from: number, to: number): string[] {
  if (kind === 'h1') return [`H#${seriesId}`];
  const partitions = new Set<string>();
  // Walked day by day (a month partition repeats and collapses in the set).
  for (let t = Math.floor(from / DAY_MS) * DAY_MS; t < to; t += DAY_MS) {
    partitions.add(blockKey(kind, seriesId, t).pk);
  }
  return [...partitions];
}

export const segmentPartition = (arrivalMinute: number, shard: number) => `SEG#${arrivalMinute}#${shard}`;
