/**
 * Who may do what: three roles for people, one scope for agents' API keys, and the access every
 * route needs. Enforcement happens in one place (`requireAccess` in handler-kit.ts) from this
 * table; a route missing from it is refused (fail closed), and an infra test checks the table
 * covers every route of the template.
 */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** API keys carry a scope, never a role: sending metrics (agents) or sending alerts (Prometheus). */
export const API_KEY_SCOPES = ['ingest', 'alerts'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Who is calling, as the authorizer passes it to the integration (`requestContext.authorizer.lambda`). */
export type Principal =
  | { readonly kind: 'user'; readonly subject: string; readonly role: Role }
  | { readonly kind: 'api_key'; readonly subject: string; readonly scope: ApiKeyScope };

/**
 * What a route needs: nothing (`public`), a role or better, a key scope (`ingest`, `alerts`:
 * a key with that scope, or an editor), or `alerts_read` (a viewer, or an `alerts` key: the
 * Alertmanager v2 reads, so Grafana's Alertmanager data source can use the same static key).
 */
export type Access = 'public' | ApiKeyScope | Role | 'alerts_read';

const RANK: Readonly<Record<Role, number>> = { viewer: 0, editor: 1, admin: 2 };

/** Every HTTP route and the access it needs. */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  'POST /auth/login': 'public',
  'GET /health': 'public',
  'GET /.well-known/jwks.json': 'public',
  'GET /auth/me': 'viewer',

  'POST /api/metrics': 'ingest',
  'POST /v1/metrics': 'ingest',
  'GET /api/metrics/query': 'viewer',
  'GET /api/metrics/names': 'viewer',
  'GET /api/metrics/labels/{label}/values': 'viewer',
  'GET /api/dashboard/system-metrics': 'viewer',

  'GET /api/alert-rules': 'viewer',
  'POST /api/alert-rules': 'editor',
  'GET /api/alert-rules/{name}': 'viewer',
  'PUT /api/alert-rules/{name}': 'editor',
  'DELETE /api/alert-rules/{name}': 'editor',
  'GET /api/alert-routing': 'viewer',
  'PUT /api/alert-routing': 'editor',
  'DELETE /api/alert-routing': 'editor',
  'GET /api/silences': 'viewer',
  'POST /api/silences': 'editor',
  'GET /api/silences/{id}': 'viewer',
  'DELETE /api/silences/{id}': 'editor',
  'GET /api/incidents': 'viewer',
  'GET /api/incidents/{id}': 'viewer',
  'POST /api/incidents/{id}/ack': 'editor',
  'POST /api/incidents/{id}/resolve': 'editor',
  'GET /api/alerts': 'viewer',
  'POST /api/alerts/test-trigger': 'editor',

  'GET /api/users': 'admin',
  'POST /api/v2/alerts': 'alerts',
  'GET /api/v2/alerts': 'alerts_read',
  'GET /api/v2/alerts/groups': 'alerts_read',
  'GET /api/v2/status': 'alerts_read',
  'GET /api/v2/receivers': 'alerts_read',
  'GET /api/v2/silences': 'alerts_read',
  'POST /api/v2/silences': 'editor',
  'GET /api/v2/silence/{id}': 'alerts_read',
  'DELETE /api/v2/silence/{id}': 'editor',
  'GET /-/healthy': 'public',
  'GET /-/ready': 'public',

  'POST /api/users': 'admin',
  'PUT /api/users/{username}': 'admin',
  'DELETE /api/users/{username}': 'admin',
  'GET /api/api-keys': 'admin',
  'POST /api/api-keys': 'admin',
  'DELETE /api/api-keys/{id}': 'admin',
};

/** The subprotocol a browser offers next to its token; `$connect` echoes it back. */
export const WEBSOCKET_SUBPROTOCOL = 'pulseboard';

/** Opening a WebSocket (the `$connect` authorizer): any signed-in person; API keys cannot. */
export const WEBSOCKET_ACCESS: Access = 'viewer';

/** Whether the principal (undefined: no credentials) may use something needing `access`. */
export function allows(principal: Principal | undefined, access: Access): boolean {
  if (access === 'public') return true;
  if (!principal) return false;
  if (principal.kind === 'api_key') {
    // Only a scope grants a key anything, and only its own (never a role, whatever it claims).
    if (access === 'alerts_read') return principal.scope === 'alerts';
    return (API_KEY_SCOPES as readonly string[]).includes(access) && access === principal.scope;
  }
  if (access === 'alerts_read') return true;
  if (access === 'ingest' || access === 'alerts') return RANK[principal.role] >= RANK.editor;
  return RANK[principal.role] >= RANK[access];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
