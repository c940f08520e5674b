import {
  type AlertRule,
  MAX_RULE_FILE_LENGTH,
  parseRuleDocument,
} from '../functions/shared/domain/alerting/rules';
import { ValidationError } from '../functions/shared/errors';
import { parseYaml } from './yaml';

/** Reads a GitOps rule file (`npm run rules:apply`): JSON or YAML text, validated whole. */
export function parseRuleFile(text: string, format: 'yaml' | 'json'): AlertRule[] {
  return parseRuleDocument(readRuleFile(text, format));
}

/** The rule file's document, parsed but not yet validated. */
export function readRuleFile(text: string, format: 'yaml' | 'json'): unknown {
  if (typeof text !== 'string') throw new ValidationError('A rule file must be text');
  if (text.length > MAX_RULE_FILE_LENGTH) {
    throw new ValidationError(`A rule file may have at most ${MAX_RULE_FILE_LENGTH} characters`);
  }
  if (format === 'yaml') return parseYaml(text, 'The rule file');
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ValidationError(`The rule file is not valid JSON: ${detail}`, [{ path: '', message: detail }]);
  }
}
