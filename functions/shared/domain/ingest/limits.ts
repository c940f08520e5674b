// The documented ingest limits, one constant each. The ingest formats and `validateDatapoints`
// read them from here; documentation should quote these numbers, not restate them elsewhere.

/**
 * A metric name: a letter, `_` or `:` first, then letters, digits, `_` or `:` (Prometheus's rule).
 * The length is checked separately, against {@link MAX_METRIC_NAME_LENGTH}.
 */
export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The longest metric name, in characters. */
export const MAX_METRIC_NAME_LENGTH = 200;

/** The most labels one datapoint may carry. */
export const MAX_LABELS = 16;

/**
 * A label key: a letter or `_` first, then letters, digits or `_`. The length is checked
 * separately, against {@link MAX_LABEL_KEY_LENGTH}.
 */
export const LABEL_KEY_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The longest label key, in characters. */
export const MAX_LABEL_KEY_LENGTH = 100;

/** Label keys starting with this prefix are reserved for Pulseboard (as in Prometheus) and rejected. */
export const RESERVED_LABEL_PREFIX = '__';

/** The largest label value, in UTF-8 bytes. Label values must also be non-empty. */
export const MAX_LABEL_VALUE_BYTES = 1024;

/** How far in the past a timestamp may lie, relative to the request's `now`: 7 days, in ms. */
export const MAX_TIMESTAMP_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** How far in the future a timestamp may lie (clock skew), relative to the request's `now`: 10 minutes, in ms. */
export const MAX_TIMESTAMP_FUTURE_MS = 10 * 60 * 1000;

/**
 * The most datapoints one request may carry, counted after parsing: an OTLP histogram becomes up
 * to seven datapoints (`_count`, `_sum`, `_min`, `_max`, `_p50`, `_p95`, `_p99`).
 */
export const MAX_DATAPOINTS_PER_REQUEST = 10_000;

/** The largest request body, in bytes (1 MiB). The ingest handler enforces it before parsing. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/**
 * The most distinct series (label sets) one metric name may have. Enforced by the metrics store;
 * it lives here so every limit has one home.
 */
export const MAX_SERIES_PER_METRIC = 10_000;

/** How much of an offending name or value a rejection message echoes, in characters. */
export const MAX_ECHO_CHARS = 100;
