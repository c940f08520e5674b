import { LineCounter, parseDocument } from 'yaml';
import { ValidationError } from '../functions/shared/errors';

/** Aliases may expand to at most this many nodes: a "billion laughs" file is refused, not expanded. */
const MAX_ALIAS_COUNT = 1_000;

/**
 * Parses a YAML configuration file (YAML 1.2 core schema, plus `<<` merge keys as YAML 1.1 tools
 * such as Alertmanager read them). Duplicate keys are refused; every syntax problem is reported as
 * a {@link ValidationError} issue with its line.
 */
export function parseYaml(text: string, what: string): unknown {
  const lines = new LineCounter();
  try {
    const document = parseDocument(text, {
      uniqueKeys: true,
      prettyErrors: false,
      merge: true,
      lineCounter: lines,
    });
    if (document.errors.length > 0) {
      throw new ValidationError(
        `${what} is not valid YAML: ${document.errors[0]?.message}`,
        document.errors.map((e) => ({ path: `line ${lines.linePos(e.pos[0]).line}`, message: e.message })),
      );
    }
    return document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // The library's own refusals (alias expansion limits) and stack exhaustion on absurd nesting.
    const message = error instanceof RangeError ? 'nested too deeply' : (error as Error).message;
    throw new ValidationError(`${what} cannot be read: ${message}`, [{ path: '', message }]);
  }
}
