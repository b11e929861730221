import { Hono } from 'hono';
import { csrfTokenOf, guard, newToken, type Refuse, SESSION_COOKIE } from '../../console/guard';

const HOST = '127.0.0.1:4739';
const ORIGIN = `http://${HOST}`;
const BASE = `http://${HOST}`;

/** A tiny console: the guard, then a GET and a POST route that say they were reached. */
function appWith(token: string, allowRestore: boolean): Hono {
  const refuse: Refuse = (c, status, message) => c.text(`refused: ${message}`, status);
  const app = new Hono();
  app.use(guard({ token, hosts: [HOST], allowRestore }, refuse));
  app.get('/tables/:table', (c) => c.text(`table ${c.req.param('table')} at ${c.req.query('at') ?? 'now'}`));
  app.post('/tables/:table/restore', async (c) => {
    const form = await c.req.parseBody();
    return c.text(`restoring ${c.req.param('table')} to ${String(form.target)}`);
  });
  // Routes for the methods the console never uses: the guard must stop them first.
  app.put('/tables/:table', (c) => c.text('put reached'));
  app.delete('/tables/:table', (c) => c.text('delete reached'));
  app.patch('/tables/:table', (c) => c.text('patch reached'));
  return app;
}

const token = newToken();
const cookie = `${SESSION_COOKIE}=${token}`;
const readOnly = appWith(token, false);
const restoring = appWith(token, true);

const get = (app: Hono, path: string, headers: Record<string, string> = {}) =>
  app.request(`${BASE}${path}`, { headers: { host: HOST, ...headers } });

const post = (
  app: Hono,
  form: Record<string, string>,
  headers: Record<string, string> = { host: HOST, cookie, origin: ORIGIN },
  path = '/tables/orders/restore',
) =>
  app.request(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });

/** Status and body of a response. */
const outcome = async (res: Response): Promise<[number, string]> => [res.status, await res.text()];

describe('console guard: Host', () => {
  it.each(['evil.example:4739', 'localhost:4739', '127.0.0.1', '127.0.0.1:4740', ''])(
    'refuses Host %p with 400, even with the right cookie',
    async (host) => {
      const [status, body] = await outcome(await get(readOnly, '/tables/orders', { host, cookie }));
      expect(status).toBe(400);
      expect(body).toContain(`Unexpected Host header \`${host}\``);
      expect(body).toContain('open the URL ddb-rewind ui printed');
    },
  );

  it('refuses a wrong Host before looking at a right token in the query', async () => {
    const res = await get(readOnly, `/tables/orders?token=${token}`, { host: 'evil.example' });
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('console guard: session', () => {
  it('refuses a request without a cookie with 401', async () => {
    const [status, body] = await outcome(await get(readOnly, '/tables/orders'));
    expect(status).toBe(401);
    expect(body).toContain('No session: open the URL ddb-rewind ui printed');
  });

  it.each([
    ['another token', `${SESSION_COOKIE}=${newToken()}`],
    ['an empty value', `${SESSION_COOKIE}=`],
    ['the token with a character more', `${SESSION_COOKIE}=${token}x`],
    ['the token under another name', `session=${token}`],
  ])('refuses a cookie holding %s with 401', async (_name, badCookie) => {
    const [status, body] = await outcome(await get(readOnly, '/tables/orders', { cookie: badCookie }));
    expect(status).toBe(401);
    expect(body).toContain('No session');
  });

  it('turns the right token in the query into a cookie and redirects to the URL without it', async () => {
    const res = await get(readOnly, `/tables/orders?token=${token}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/tables/orders');
    const setCookie = res.headers.get('set-cookie') ?? '';
    const [pair, ...attributes] = setCookie.split(/;\s*/);
    expect(pair).toBe(`${SESSION_COOKIE}=${token}`);
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Lax');
    expect(attributes).toContain('Path=/');
  });

  it('keeps the rest of the query, in order, when it drops the token', async () => {
    const res = await get(readOnly, `/tables/orders?at=2026-03-01T09%3A00%3A00Z&token=${token}&after=abc_-1`);
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location).not.toContain('token');
    const url = new URL(location, BASE);
    expect(url.pathname).toBe('/tables/orders');
    expect([...url.searchParams]).toEqual([
      ['at', '2026-03-01T09:00:00Z'],
      ['after', 'abc_-1'],
    ]);
  });

  it('lets the redirected request in with the cookie it set', async () => {
    const first = await get(readOnly, `/tables/orders?at=x&token=${token}`);
    const setCookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const [status, body] = await outcome(
      await get(readOnly, first.headers.get('location') ?? '', { cookie: setCookie }),
    );
    expect(status).toBe(200);
    expect(body).toBe('table orders at x');
  });

  it.each([
    ['another token', newToken()],
    ['an empty token', ''],
    ['a prefix of the token', token.slice(0, 10)],
  ])('refuses %s in the query with 401 and sets no cookie', async (_name, bad) => {
    const res = await get(readOnly, `/tables/orders?token=${encodeURIComponent(bad)}`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Wrong token: open the URL ddb-rewind ui printed');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a wrong token in the query even with the right cookie', async () => {
    const res = await get(readOnly, `/tables/orders?token=${newToken()}`, { cookie });
    expect(res.status).toBe(401);
  });

  it('lets a GET with the right cookie reach the route', async () => {
    const [status, body] = await outcome(await get(readOnly, '/tables/orders?at=t1', { cookie }));
    expect(status).toBe(200);
    expect(body).toBe('table orders at t1');
  });

  it('lets a HEAD with the right cookie through', async () => {
    const res = await readOnly.request(`${BASE}/tables/orders`, {
      method: 'HEAD',
      headers: { host: HOST, cookie },
    });
    expect(res.status).toBe(200);
  });
});

describe('console guard: POST', () => {
  const csrf = csrfTokenOf(token);
  const form = { target: 'orders-restored', csrf };

  it('refuses a POST without a cookie with 401', async () => {
    const res = await post(restoring, form, { host: HOST, origin: ORIGIN });
    expect(res.status).toBe(401);
  });

  it.each([
    ['no Origin', undefined],
    ['another site', 'http://evil.example'],
    ['another host name for the same server', 'http://localhost:4739'],
    ['https', 'https://127.0.0.1:4739'],
    ['another port', 'http://127.0.0.1:4740'],
    ['the opaque origin', 'null'],
  ])('refuses %s with 403', async (_name, origin) => {
    const headers: Record<string, string> = { host: HOST, cookie, ...(origin ? { origin } : {}) };
    const [status, body] = await outcome(await post(restoring, form, headers));
    expect(status).toBe(403);
    expect(body).toContain(`Refused a POST from origin \`${origin ?? 'none'}\``);
    expect(body).not.toContain('restoring');
  });

  it('refuses a POST to a read-only console with 403, naming --allow-restore', async () => {
    const [status, body] = await outcome(await post(readOnly, form));
    expect(status).toBe(403);
    expect(body).toContain('read-only');
    expect(body).toContain('--allow-restore');
    expect(body).not.toContain('restoring');
  });

  it.each([
    ['missing', { target: 'orders-restored' }],
    ['empty', { target: 'orders-restored', csrf: '' }],
    ['of another session', { target: 'orders-restored', csrf: csrfTokenOf(newToken()) }],
    ['the session token itself', { target: 'orders-restored', csrf: token }],
  ])('refuses a csrf field %s with 403', async (_name, badForm) => {
    const [status, body] = await outcome(await post(restoring, badForm));
    expect(status).toBe(403);
    expect(body).toContain('Missing or stale form token: reload the page and submit again');
    expect(body).not.toContain('restoring');
  });

  it('refuses the csrf token sent in the query instead of the form', async () => {
    const res = await post(
      restoring,
      { target: 'orders-restored' },
      undefined,
      `/tables/orders/restore?csrf=${encodeURIComponent(csrf)}`,
    );
    expect(res.status).toBe(403);
  });

  it('lets a POST with the right Origin and csrf reach the route, which can still read the form', async () => {
    const [status, body] = await outcome(await post(restoring, form));
    expect(status).toBe(200);
    expect(body).toBe('restoring orders to orders-restored');
  });

  it('takes the csrf field from a multipart form too', async () => {
    const data = new FormData();
    data.set('target', 'orders-restored');
    data.set('csrf', csrf);
    const res = await restoring.request(`${BASE}/tables/orders/restore`, {
      method: 'POST',
      headers: { host: HOST, cookie, origin: ORIGIN },
      body: data,
    });
    expect(await outcome(res)).toEqual([200, 'restoring orders to orders-restored']);
  });

  it('derives the csrf token from the session secret alone', () => {
    expect(csrfTokenOf(token)).toBe(csrf);
    expect(csrfTokenOf(newToken())).not.toBe(csrf);
    expect(csrf).not.toContain(token);
  });
});

describe('console guard: other methods', () => {
  it.each(['PUT', 'DELETE', 'PATCH'])(
    'refuses %s, even with the right cookie, Origin and csrf',
    async (method) => {
      const res = await restoring.request(`${BASE}/tables/orders`, {
        method,
        headers: {
          host: HOST,
          cookie,
          origin: ORIGIN,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ csrf: csrfTokenOf(token) }),
      });
      const [status, body] = await outcome(res);
      expect(status).toBe(400);
      expect(body).toContain(`Method ${method} is not used by the console`);
      expect(body).not.toContain('reached');
    },
  );

  it('refuses PUT without a session with 401 first', async () => {
    const res = await restoring.request(`${BASE}/tables/orders`, { method: 'PUT', headers: { host: HOST } });
    expect(res.status).toBe(401);
  });
});
