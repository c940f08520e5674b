import type { Routing } from '../shared/alerting/routing';
import type { Route, RouteConfig } from '../shared/domain/alerting/dispatch/route';

/** Every receiver the routing tree names, the root's first, then in tree order, each once. */
export function receiverNames(tree: Route): string[] {
  const names = new Set<string>();
  const visit = (route: Route) => {
    names.add(route.receiver);
    route.routes.forEach(visit);
  };
  visit(tree);
  return [...names];
}

/** Pulseboard's own route keys, which Alertmanager's strict config loader would refuse. */
function alertmanagerRoute({ flap_detection: _pulseboardOnly, routes, ...route }: RouteConfig): RouteConfig {
  return routes ? { ...route, routes: routes.map(alertmanagerRoute) } : route;
}

/**
 * `config.original` of `GET /api/v2/status`: the routing in force as an alertmanager.yml that
 * Alertmanager's own loader accepts, so `amtool config routes` (which loads it) shows and tests
 * the tree. It declares each receiver the tree names, by name only: where they deliver is the
 * stage's SNS subscriptions, not part of the routing. Pulseboard's extensions (`flap_detection`)
 * are left out; `GET /api/alert-routing` has them. JSON, which YAML reads as it is.
 */
export function alertmanagerConfigText({ config, tree }: Pick<Routing, 'config' | 'tree'>): string {
  const { route, ...rest } = config;
  const document = {
    route: alertmanagerRoute(route),
    ...rest,
    receivers: receiverNames(tree).map((name) => ({ name })),
  };
  return JSON.stringify(document, null, 2);
}
