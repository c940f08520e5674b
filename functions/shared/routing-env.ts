import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * The stage's default routing travels in the functions' environment, where Lambda allows 4 KB for
 * all variables together. A routing tree loaded from a real alertmanager.yml is often larger as
 * JSON, and compresses about five to one, so a long one is stored gzipped, base64, behind a prefix.
 */
const GZIP_PREFIX = 'gzip:';
/** Shorter JSON is stored as it is, readable in the console. */
const PLAIN_UP_TO = 1_024;

export function encodeRoutingEnv(json: string): string {
  if (json.length <= PLAIN_UP_TO) return json;
  return GZIP_PREFIX + gzipSync(json, { level: 9 }).toString('base64');
}

export function decodeRoutingEnv(value: string): string {
  return value.startsWith(GZIP_PREFIX)
    ? gunzipSync(Buffer.from(value.slice(GZIP_PREFIX.length), 'base64')).toString('utf8')
    : value;
}
