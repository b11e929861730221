import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

/** What the console's guard checks every request against. */
export interface GuardSettings {
  /** The secret in the URL `ddb-rewind ui` prints; it becomes the session cookie. */
  token: string;
  /** `host:port` values a request's Host header may carry (a DNS-rebinding page carries its own). */
  hosts: readonly string[];
  allowRestore: boolean;
}

export const SESSION_COOKIE = 'ddb_rewind_session';

/** A fresh secret for the URL. */
export const newToken = (): string => randomBytes(24).toString('base64url');

/** The CSRF token of a session: derived from the secret, so the server keeps no state for it. */
export const csrfTokenOf = (token: string): string =>
  createHmac('sha256', token).update('ddb-rewind csrf').digest('base64url');

const same = (a: string | undefined, b: string): boolean => {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** A refusal page: one line saying what is wrong and what to do. */
export type Refuse = (
  c: Context,
  status: 400 | 401 | 403 | 404,
  message: string,
) => Response | Promise<Response>;

/**
 * The console's one gate, before any route: Host (no DNS rebinding), the secret (query once,
 * then the cookie), and for POSTs the Origin, the CSRF token and the restore switch.
 */
export function guard(settings: GuardSettings, refuse: Refuse): MiddlewareHandler {
  const csrf = csrfTokenOf(settings.token);
  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    if (!settings.hosts.includes(host))
      return refuse(c, 400, `Unexpected Host header \`${host}\`: open the URL ddb-rewind ui printed`);
    const url = new URL(c.req.url);
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (!same(given, settings.token))
        return refuse(
          c,
          401,
          'Wrong token: open the URL ddb-rewind ui printed (the token changes at each start)',
        );
      // Lax: a deep link pasted in a chat still opens with the session; a cross-site POST does not.
      setCookie(c, SESSION_COOKIE, settings.token, { httpOnly: true, sameSite: 'Lax', path: '/' });
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    if (!same(getCookie(c, SESSION_COOKIE), settings.token))
      return refuse(c, 401, 'No session: open the URL ddb-rewind ui printed (it holds the token)');
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (c.req.method !== 'POST') return refuse(c, 400, `Method ${c.req.method} is not used by the console`);
    // The Origin of the console's own pages is the Host already checked.
    if (c.req.header('origin') !== `http://${host}`)
      return refuse(
        c,
        403,
        `Refused a POST from origin \`${c.req.header('origin') ?? 'none'}\`: use the console's own pages`,
      );
    if (!settings.allowRestore)
      return refuse(
        c,
        403,
        'The console is read-only: restart it with `ddb-rewind ui --allow-restore` to restore',
      );
    const form = await c.req.parseBody();
    if (!same(typeof form.csrf === 'string' ? form.csrf : undefined, csrf))
      return refuse(c, 403, 'Missing or stale form token: reload the page and submit again');
    return next();
  };
}
