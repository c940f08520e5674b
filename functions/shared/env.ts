import type { EnvName } from './env-names';

/** Thrown at cold start when the function's configuration is incomplete. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/**
 * Reads the named variables once, at cold start, and fails with one clear message naming every
 * missing variable, instead of failing later inside a request.
 */
export function readEnv<const N extends EnvName>(
  names: readonly N[],
  source: NodeJS.ProcessEnv = process.env,
): Record<N, string> {
  const missing = names.filter((name) => !source[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(`Missing environment variable(s): ${missing.join(', ')}`);
  }
  return Object.fromEntries(names.map((name) => [name, source[name] as string])) as Record<N, string>;
}

/** Reads a positive integer variable, or the fallback when unset. */
export function readPositiveInt(
  name: EnvName,
  fallback: number,
  source: NodeJS.ProcessEnv = process.env,
): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}
