import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../../functions/shared/domain/auth/roles';

const LABELS = {
  public: 'public',
  ingest: 'ingest key or editor',
  alerts: 'alerts key or editor',
  alerts_read: 'viewer or alerts key',
  viewer: 'viewer',
  editor: 'editor',
  admin: 'admin',
};

describe("the README's route table", () => {
  it('lists every route with the access the code enforces, and nothing else', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Security model'),
      readme.indexOf('**How a request is checked.**'),
    );
    const rows = [...section.matchAll(/^\| `((?:GET|POST|PUT|DELETE) [^`]+)` \| ([^|]+) \|$/gm)].map(
      ([, route, needs]) => [route, needs?.trim()],
    );
    const inCode = Object.entries(ROUTE_ACCESS).map(([route, access]) => [route, LABELS[access]]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(inCode));
  });
});
