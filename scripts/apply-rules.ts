/**
 * `npm run rules:apply -- --url <HttpApiUrl> [--prune] [--dry-run] <rules.yaml|rules.json>`
 *
 * GitOps for alert rules: validates the whole file locally first (every problem reported at once,
 * nothing sent), then makes the stage's rules match it: new and changed rules are PUT, unchanged
 * ones left alone, and with --prune the stage's rules missing from the file are deleted.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ValidationError } from '../functions/shared/errors';
import { parseRuleFile, readRuleFile } from '../lib/rule-file';
import { apiClient } from './api-client';

const USAGE =
  'usage: npm run rules:apply -- --url <HttpApiUrl> [--token <t>] [--prune] [--dry-run] <file.yaml|file.json>';

interface Definition {
  readonly name: string;
  readonly [field: string]: unknown;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env.PULSEBOARD_URL },
      token: { type: 'string', default: process.env.PULSEBOARD_TOKEN },
      prune: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const [file] = positionals;
  if (!file || !values.url || positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const text = readFileSync(file, 'utf8');
  const format = /\.ya?ml$/i.test(file) ? 'yaml' : 'json';
  try {
    parseRuleFile(text, format);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    console.error(`${file}: ${error.message}`);
    for (const issue of error.issues) console.error(`  ${issue.path}: ${issue.message}`);
    return 1;
  }
  const document = readRuleFile(text, format) as { rules: Definition[] };
  const wanted = new Map(document.rules.map((rule) => [rule.name, rule]));

  const call = apiClient(values.url, values.token);

  const existing = new Map<string, unknown>(
    ((await call('GET', '/api/alert-rules')) as { rules: { name: string; definition: unknown }[] }).rules.map(
      (r) => [r.name, r.definition],
    ),
  );
  const plan = {
    create: [...wanted.keys()].filter((name) => !existing.has(name)),
    update: [...wanted.keys()].filter(
      (name) => existing.has(name) && JSON.stringify(existing.get(name)) !== JSON.stringify(wanted.get(name)),
    ),
    delete: values.prune ? [...existing.keys()].filter((name) => !wanted.has(name)) : [],
  };
  const dry = values['dry-run'];
  for (const name of [...plan.create, ...plan.update]) {
    if (!dry) await call('PUT', `/api/alert-rules/${encodeURIComponent(name)}`, wanted.get(name));
  }
  for (const name of plan.delete) {
    if (!dry) await call('DELETE', `/api/alert-rules/${encodeURIComponent(name)}`);
  }
  const unchanged = wanted.size - plan.create.length - plan.update.length;
  console.log(
    `${dry ? 'would apply' : 'applied'} ${file}: ${plan.create.length} created, ${plan.update.length} updated, ` +
      `${plan.delete.length} deleted, ${unchanged} unchanged` +
      (!values.prune && existing.size > wanted.size - plan.create.length
        ? ' (rules not in the file were kept; --prune deletes them)'
        : ''),
  );
  for (const [verb, names] of Object.entries(plan))
    for (const name of names) console.log(`  ${verb} ${name}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`rules:apply failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
