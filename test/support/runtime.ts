import { inject } from 'vitest';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime';

/**
 * One quiet local runtime for a test file: the assembly synthesized once per run, a free port,
 * no built-in agent, runtime and function logs off. Options override those defaults.
 */
export function startTestRuntime(options: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    assemblyDir: inject('assemblyDir'),
    port: 0,
    agent: false,
    log: () => {},
    functionLog: () => {},
    ...options,
  });
}
