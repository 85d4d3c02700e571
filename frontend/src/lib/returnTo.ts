/** Where to go after signing in: only same-app paths are accepted (no open redirects). */
export function safeNext(raw: string | null | undefined): string {
  if (!raw) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (raw === '/login' || raw.startsWith('/login?') || raw.startsWith('/login#')) return '/';
  return raw;
}

/** The sign-in page, then back to `next`; `reason` says why the session ended (see LOGIN_REASONS). */
export function loginPath(next: string | null | undefined, reason?: string): string {
  const target = safeNext(next);
  const params = new URLSearchParams();
  if (target !== '/') params.set('next', target);
  if (reason) params.set('reason', reason);
  const query = params.toString();
  return query ? `/login?${query}` : '/login';
}

export function currentLocationPath(loc: Pick<Location, 'pathname' | 'search' | 'hash'> = window.location): string {
  return `${loc.pathname}${loc.search}${loc.hash}`;
}
