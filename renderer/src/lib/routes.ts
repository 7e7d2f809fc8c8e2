// Hash routes (#/sessions/abc): parsing and building. Pure; the router controller wraps it.

export type Route =
  | { page: 'overview' }
  | { page: 'sessions' }
  | { page: 'session'; id: string }
  | { page: 'spend' }
  | { page: 'providers' }
  | { page: 'routing' }
  | { page: 'budgets' }
  | { page: 'tools' }
  | { page: 'insights' }
  | { page: 'blocks' }
  | { page: 'team' }
  | { page: 'settings' }
  | { page: 'signed-out'; error: string | null }
  | { page: 'not-found'; path: string };

export type PageName = Route['page'];

const SIMPLE = new Set(['sessions', 'spend', 'providers', 'routing', 'budgets', 'tools', 'insights', 'blocks', 'team', 'settings']);

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [pathPart, query = ''] = raw.split('?', 2) as [string, string?];
  const parts = pathPart.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  if (parts.length === 0) return { page: 'overview' };
  const [head, second] = parts;
  if (head === 'sessions' && second !== undefined && parts.length === 2) return { page: 'session', id: second };
  if (parts.length === 1 && SIMPLE.has(head!)) return { page: head as 'sessions' };
  if (parts.length === 1 && head === 'signed-out') return { page: 'signed-out', error: new URLSearchParams(query).get('error') };
  return { page: 'not-found', path: `/${parts.join('/')}` };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview': return '#/';
    case 'session': return `#/sessions/${encodeURIComponent(route.id)}`;
    case 'signed-out': return route.error ? `#/signed-out?error=${encodeURIComponent(route.error)}` : '#/signed-out';
    case 'not-found': return `#${route.path}`;
    default: return `#/${route.page}`;
  }
}
