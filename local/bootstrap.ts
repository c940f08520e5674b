import { randomBytes } from 'node:crypto';
import type { CfnTemplate, FunctionInvoker, Resolver } from './types';

/**
 * The first admin and the built-in agent's API key, made through the stack's own auth function by
 * direct invocation (`{"bootstrapAdmin": …}`, `{"bootstrapApiKey": …}`), as `npm run users:create`
 * does on AWS: no second user store, no local branch in the function.
 */
export interface AdminCredentials {
  readonly username: string;
  /** The password asked for (or generated). When the admin already existed (`--data`), theirs is unchanged. */
  readonly password: string;
  /** Generated because PULSEBOARD_ADMIN_PASSWORD was unset. */
  readonly generated: boolean;
  /** False when the admin existed already (a data directory from an earlier run). */
  readonly created: boolean;
}

export const ADMIN_USERNAME = 'admin';

/** The function behind `POST /auth/login`, as an invocable reference; undefined for a stack without auth. */
export function authFunctionRef(template: CfnTemplate, resolver: Resolver): string | undefined {
  const route = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties?.RouteKey === 'POST /auth/login',
  );
  const target = route ? String(resolver.resolve(route.Properties?.Target) ?? '') : '';
  const integrationId = target.replace(/^integrations\//, '');
  const integration =
    template.Resources[integrationId] ??
    Object.entries(template.Resources).find(
      ([id, r]) =>
        r.Type === 'AWS::ApiGatewayV2::Integration' &&
        String(resolver.resolve({ Ref: id })) === integrationId,
    )?.[1];
  const uri = integration?.Properties?.IntegrationUri;
  return uri === undefined ? undefined : String(resolver.resolve(uri));
}

export async function bootstrapAdmin(
  invoker: FunctionInvoker,
  functionRef: string,
  password: string | undefined,
): Promise<AdminCredentials> {
  const chosen = password ?? randomBytes(18).toString('base64url');
  const outcome = await invoker.invoke(functionRef, {
    bootstrapAdmin: { username: ADMIN_USERNAME, password: chosen },
  });
  if (outcome.kind !== 'ok') {
    throw new Error(
      `Could not create the admin user: ${outcome.kind === 'error' ? outcome.errorMessage : 'timed out'}`,
    );
  }
  const { created } = outcome.payload as { created: boolean };
  return { username: ADMIN_USERNAME, password: chosen, generated: password === undefined, created };
}

/** A fresh ingest key for the built-in agent. */
export async function bootstrapAgentKey(invoker: FunctionInvoker, functionRef: string): Promise<string> {
  const outcome = await invoker.invoke(functionRef, { bootstrapApiKey: { name: 'local runtime agent' } });
  if (outcome.kind !== 'ok') {
    throw new Error(
      `Could not create the agent's API key: ${outcome.kind === 'error' ? outcome.errorMessage : 'timed out'}`,
    );
  }
  return (outcome.payload as { key: string }).key;
}
