import { inject } from 'vitest';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime';
import { postJson, signIn, useToken } from './clients';

export { signIn };

/**
 * One quiet local runtime for a test file: the assembly synthesized once per run, a free port,
 * no built-in agent, runtime and function logs off. Options override those defaults.
 */
export async function startTestRuntime(options: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  const runtime = await startLocalRuntime({
    assemblyDir: inject('assemblyDir'),
    port: 0,
    agent: false,
    log: () => {},
    functionLog: () => {},
    ...options,
  });
  // Every helper in clients.ts sends the admin's token from here on; auth tests opt out per call.
  useToken(await signIn(runtime));
  return runtime;
}

/** A new ingest API key, made by the signed-in admin. */
export async function createIngestKey(runtime: LocalRuntime, name = 'test agent'): Promise<string> {
  const { status, body } = await postJson(`${runtime.urls.HttpApiUrl}/api/api-keys`, { name });
  if (status !== 201) throw new Error(`Creating an API key failed: ${status} ${JSON.stringify(body)}`);
  return (body as { key: string }).key;
}
