import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addCsrfHeader, api, readCookie, setUnauthorizedHandler } from './client';
import { ApiError } from './errors';
import { loginPath } from '../lib/returnTo';

type Call = { url: string; method: string; headers: Headers; credentials?: RequestCredentials; body: unknown };

function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

let calls: Call[];
let reply: (call: Call) => Response;

beforeEach(() => {
  calls = [];
  reply = () => json(200, {});
  document.cookie = 'csrftoken=tok%2B123; path=/';
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init);
    const call: Call = {
      url: req.url,
      method: req.method,
      headers: req.headers,
      credentials: input instanceof Request ? input.credentials : init?.credentials,
      // only JSON bodies are read back (jsdom's FormData inside Node's Request cannot be streamed)
      body:
        input instanceof Request
          ? (req.headers.get('Content-Type') ?? '').includes('json')
            ? await req.clone().text()
            : undefined
          : init?.body,
    };
    calls.push(call);
    return reply(call);
  });
  window.history.replaceState(null, '', '/cases/7?x=1#f');
});

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = 'csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
});

describe('cookies and CSRF', () => {
  it('reads and decodes a cookie among others', () => {
    expect(readCookie('csrftoken', 'a=1; csrftoken=x%3Dy; b=2')).toBe('x=y');
    expect(readCookie('missing', 'a=1')).toBeNull();
  });
  it('adds the header only on mutating methods', () => {
    const h1 = new Headers();
    addCsrfHeader('GET', h1);
    expect(h1.has('X-CSRF-Token')).toBe(false);
    for (const m of ['POST', 'put', 'PATCH', 'DELETE']) {
      const h = new Headers();
      addCsrfHeader(m, h);
      expect(h.get('X-CSRF-Token')).toBe('tok+123');
    }
  });
});

describe('api calls', () => {
  it('GETs with same-origin credentials and no CSRF header', async () => {
    reply = () => json(200, { items: [], total: 0, page: 2, page_size: 25 });
    const page = await api.listCases({ page: 2, status: 'running' });
    expect(page.page).toBe(2);
    expect(calls[0].method).toBe('GET');
    expect(calls[0].url).toMatch(/\/api\/cases\?(.*&)?page=2/);
    expect(calls[0].url).toMatch(/status=running/);
    expect(calls[0].credentials).toBe('same-origin');
    expect(calls[0].headers.has('X-CSRF-Token')).toBe(false);
  });

  it('PUTs a verdict with the CSRF header and JSON body', async () => {
    reply = () =>
      json(200, { verdict: 'reject', reason: null, comment: null, reviewer: 'c', updated_at: '2026-01-01T00:00:00Z', version: 1 });
    const v = await api.putVerdict(12, { verdict: 'reject', reason: null, comment: null, version: 0 });
    expect(v.version).toBe(1);
    expect(calls[0].method).toBe('PUT');
    expect(calls[0].url).toMatch(/\/api\/flags\/12\/verdict$/);
    expect(calls[0].headers.get('X-CSRF-Token')).toBe('tok+123');
    expect(JSON.parse(String(calls[0].body))).toEqual({ verdict: 'reject', reason: null, comment: null, version: 0 });
  });

  it('turns {"detail": ...} into an ApiError with status and message', async () => {
    reply = () => json(409, { detail: 'Someone else changed this verdict; reload the case to see the current one.' });
    const err = await api.putVerdict(1, { verdict: 'accept' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.message).toMatch(/Someone else changed/);
  });

  it('reports a network failure as status 0 with a readable message', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const err = await api.me().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/Cannot reach the server/);
  });

  it('uploads multipart form data (not JSON) with the CSRF header', async () => {
    reply = () => json(201, { id: 5, label: 'x' });
    const appended: [string, unknown][] = [];
    const append = FormData.prototype.append;
    const spy = vi.spyOn(FormData.prototype, 'append').mockImplementation(function (this: FormData, ...a: unknown[]) {
      appended.push([a[0] as string, a[1] instanceof File ? (a[1] as File).name : a[1]]);
      return (append as (...x: unknown[]) => void).apply(this, a);
    });
    await api.uploadCase(new File(['abc'], 'brain.nii.gz'), ' case A ', 't1');
    spy.mockRestore();
    const c = calls[0];
    expect(c.method).toBe('POST');
    expect(c.url).toMatch(/\/api\/cases$/);
    expect(c.headers.get('X-CSRF-Token')).toBe('tok+123');
    expect(c.headers.get('Content-Type') ?? '').not.toMatch(/json/);
    expect(appended).toEqual([
      ['files', 'brain.nii.gz'],
      ['label', 'case A'],
      ['sequence', 't1'],
    ]);
  });

  it('fetches case files as bytes and raises ApiError on 404', async () => {
    reply = (c) => (c.url.endsWith('/scan') ? new Response(new Uint8Array([31, 139, 8])) : json(404, { detail: 'Not produced yet.' }));
    const buf = await api.caseFile(3, 'scan');
    expect(new Uint8Array(buf)[0]).toBe(31);
    expect(calls[0].credentials).toBe('same-origin');
    const err = await api.caseFile(3, 'anomaly_map').catch((e) => e);
    expect(err.status).toBe(404);
    expect(err.message).toBe('Not produced yet.');
  });
});

describe('401 handling', () => {
  it('sends the user to login remembering where they were', async () => {
    const seen: string[] = [];
    const restore = setUnauthorizedHandler((to) => seen.push(to));
    reply = () => json(401, { detail: 'Your session has ended.' });
    const err = await api.getCase(7).catch((e) => e);
    restore();
    expect(err.status).toBe(401);
    expect(seen).toEqual(['/cases/7?x=1#f']);
  });

  it('passes on why the service ended the session, for the sign-in page to say', async () => {
    const seen: [string, string | undefined][] = [];
    const restore = setUnauthorizedHandler((to, reason) => seen.push([to, reason]));
    reply = () => json(401, { detail: 'Your session ended after 60 minutes without activity.', reason: 'idle' });
    await api.getCase(7).catch(() => undefined); // through the typed client
    reply = () => json(401, { detail: 'Your account is disabled.', reason: 'disabled' });
    await api.caseFile(7, 'scan').catch(() => undefined); // through the plain fetch layer
    restore();
    expect(seen).toEqual([['/cases/7?x=1#f', 'idle'], ['/cases/7?x=1#f', 'disabled']]);
    expect(loginPath('/cases/7', 'idle')).toBe('/login?next=%2Fcases%2F7&reason=idle');
    expect(loginPath('/', 'ended')).toBe('/login?reason=ended');
    expect(loginPath('/')).toBe('/login');
  });

  it('also for binary file requests', async () => {
    const seen: string[] = [];
    const restore = setUnauthorizedHandler((to) => seen.push(to));
    reply = () => json(401, { detail: 'Not signed in.' });
    await api.caseFile(7, 'scan').catch(() => undefined);
    restore();
    expect(seen).toEqual(['/cases/7?x=1#f']);
  });

  it('does not redirect for a wrong password; the message is the server one', async () => {
    const seen: string[] = [];
    const restore = setUnauthorizedHandler((to) => seen.push(to));
    reply = () => json(401, { detail: 'Wrong username or password.' });
    const err = await api.login('a', 'b').catch((e) => e);
    restore();
    expect(err.message).toBe('Wrong username or password.');
    expect(seen).toEqual([]);
  });

  it('does not redirect while already on the login page', async () => {
    window.history.replaceState(null, '', '/login');
    const seen: string[] = [];
    const restore = setUnauthorizedHandler((to) => seen.push(to));
    reply = () => json(401, { detail: 'Not signed in.' });
    await api.me().catch(() => undefined);
    restore();
    expect(seen).toEqual([]);
  });
});

describe('releaseClaimOnLeave', () => {
  it('sends a keepalive DELETE with the CSRF header, and never redirects or throws', async () => {
    const seen: RequestInit[] = [];
    vi.stubGlobal('fetch', async (_input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(init ?? {});
      calls.push({ url: String(_input), method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: undefined });
      return reply(calls[calls.length - 1]);
    });
    const onUnauthorized = vi.fn();
    const restore = setUnauthorizedHandler(onUnauthorized);
    reply = () => new Response(null, { status: 204 });
    await expect(api.releaseClaimOnLeave(7)).resolves.toBe(true);
    expect(calls[0].url).toMatch(/\/api\/cases\/7\/claim$/);
    expect(calls[0].method).toBe('DELETE');
    expect(calls[0].headers.get('X-CSRF-Token')).toBe('tok+123');
    expect(seen[0].keepalive).toBe(true);
    expect(seen[0].credentials).toBe('same-origin');
    reply = () => json(401, { detail: 'Not signed in' });
    await expect(api.releaseClaimOnLeave(7)).resolves.toBe(false);
    expect(onUnauthorized).not.toHaveBeenCalled();
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('offline')));
    await expect(api.releaseClaimOnLeave(7)).resolves.toBe(false);
    restore();
  });
});
