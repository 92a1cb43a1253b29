/**
 * Who may use the dashboard. It can deploy code, so: on a loopback address with no token, only requests
 * that name a loopback host (no DNS rebinding from a web page); on any other address a token is required
 * up front, and every request must carry it, as `Authorization: Bearer <token>`, as `?token=` (which also
 * sets a cookie, so the page's own requests and EventSource streams carry it), or as that cookie.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { DashboardError } from './errors.js';

export const TOKEN_COOKIE = 'flinkfn_dashboard_token';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** Refuses to serve a non-loopback address without a token. */
export function checkBinding(host: string, token: string | undefined): void {
  if (isLoopback(host)) return;
  if (!token) {
    throw new DashboardError(`binding the dashboard to ${host} needs an access token`, 'Pass --token <secret> (or set FLINKFN_DASHBOARD_TOKEN), or keep the default address 127.0.0.1.');
  }
  if (token.length < 16) throw new DashboardError('the access token is too short (fewer than 16 characters)', 'Use a long random secret, e.g. `openssl rand -hex 24`.');
}

export type Verdict = { ok: true; setCookie: boolean } | { ok: false; status: number; message: string };

export function checkRequest(request: IncomingMessage, url: URL, token: string | undefined): Verdict {
  if (!token) {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    return isLoopback(host) ? { ok: true, setCookie: false } : { ok: false, status: 403, message: `host "${host}" is not a loopback name` };
  }
  const fromQuery = url.searchParams.get('token') ?? undefined;
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  const fromCookie = cookie(request.headers.cookie ?? '', TOKEN_COOKIE);
  for (const candidate of [bearer, fromQuery, fromCookie]) {
    if (candidate !== undefined && same(candidate, token)) return { ok: true, setCookie: candidate === fromQuery };
  }
  return { ok: false, status: 401, message: 'an access token is required' };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}
