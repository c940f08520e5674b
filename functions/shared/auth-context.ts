import { API_KEY_SCOPES, type ApiKeyScope, isRole, type Principal } from './domain/auth/roles';

/**
 * The caller as the authorizer described it. HTTP APIs pass a Lambda authorizer's context as
 * `requestContext.authorizer.lambda`; WebSocket APIs flatten it into `requestContext.authorizer`.
 * Context values are strings, so the shape is checked again here.
 */
export function principalOf(requestContext: unknown): Principal | undefined {
  const authorizer = (requestContext as { authorizer?: Record<string, unknown> } | undefined)?.authorizer;
  const context = (authorizer?.lambda ?? authorizer) as Record<string, unknown> | undefined;
  if (!context || typeof context.subject !== 'string' || context.subject === '') return undefined;
  if (context.kind === 'user' && isRole(context.role)) {
    return { kind: 'user', subject: context.subject, role: context.role };
  }
  if (context.kind === 'api_key' && (API_KEY_SCOPES as readonly unknown[]).includes(context.scope)) {
    return { kind: 'api_key', subject: context.subject, scope: context.scope as ApiKeyScope };
  }
  return undefined;
}

/** The authorizer context for a principal: flat strings, as API Gateway requires. */
export function principalContext(principal: Principal): Record<string, string> {
  return principal.kind === 'user'
    ? { kind: 'user', subject: principal.subject, role: principal.role }
    : { kind: 'api_key', subject: principal.subject, scope: principal.scope };
}
