/**
 * `npm test`: every tier in one run — typecheck, lint, then the unit, infra, integration and
 * browser projects in one vitest process — ending with one plain `N passed, N failed` line that
 * counts the two checks and every test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../local/synth';

const bin = (name: string) => path.join(PROJECT_ROOT, 'node_modules', '.bin', name);

function step(label: string, command: string, args: string[]): boolean {
  console.log(`\n=== ${label}: ${[path.basename(command), ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: PROJECT_ROOT, stdio: 'inherit', env: process.env });
  const ok = result.status === 0;
  console.log(`=== ${label}: ${ok ? 'passed' : 'FAILED'}`);
  return ok;
}

let passed = 0;
let failed = 0;
const count = (ok: boolean) => (ok ? passed++ : failed++);

count(
  step('typecheck', bin('tsc'), ['-p', 'tsconfig.json']) &&
    step('typecheck web', bin('tsc'), ['-p', 'web/tsconfig.json']),
);
count(step('lint', bin('biome'), ['check', '.']));

const reportFile = path.join(PROJECT_ROOT, 'test-results', 'vitest.json');
mkdirSync(path.dirname(reportFile), { recursive: true });
const projects = process.argv.slice(2).flatMap((name) => ['--project', name]);
const vitestOk = step('tests', bin('vitest'), [
  'run',
  ...projects,
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${reportFile}`,
]);

try {
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { status: string; message?: string; name: string; assertionResults: unknown[] }[];
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A file that fails before its tests run (a crashed setup) counts as one failure.
  const brokenFiles = report.testResults.filter(
    (file) => file.status === 'failed' && file.assertionResults.length === 0,
  );
  failed += brokenFiles.length;
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
} catch (error) {
  failed++;
  console.log(`\nvitest wrote no report (${(error as Error).message})`);
  console.log(`${passed} passed, ${failed} failed`);
}

process.exit(failed === 0 && vitestOk ? 0 : 1);
