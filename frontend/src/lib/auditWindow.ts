// From / To of the audit trail: the datetime-local fields, the instants in the address, and what the API is sent.

/** datetime-local ("2026-11-24T10:30", read in the browser's zone) or an ISO instant ("2026-11-24T09:30:00Z")
 * -> ISO in UTC; '' or junk -> undefined. */
export function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The From / To of the address as an instant in UTC ("2026-12-05T22:10:00Z"): a link shared with a colleague in
 * another zone must select the same events, which a bare local time ("2026-12-06T03:40") would not. */
export function instantForUrl(local: string): string | undefined {
  return localToIso(local)?.replace(/\.000Z$/, 'Z');
}

const MINUTE_MS = 60_000;

/** The API's `until` (exclusive) for a To: To takes in the whole of its minute, as a reader means "to 06:44", so
 * From = To asks for that one minute. The address keeps To as shown, and this is applied to what is sent. */
export function untilForApi(to: string): string {
  return new Date(Math.floor(Date.parse(to) / MINUTE_MS) * MINUTE_MS + MINUTE_MS).toISOString();
}

/** Why From / To select nothing, or null: From after the end of To's minute. */
export function windowError(since: string | undefined, until: string | undefined): string | null {
  if (!since || !until || Date.parse(since) < Date.parse(untilForApi(until))) return null;
  return '“From” must not be after “To”: no event lies in that window.';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An address's From / To -> the datetime-local value that shows it in the browser's zone. An instant with its
 * zone is converted; an old link's bare local time parses as local time, so it stays as it was. */
export function localInputValue(v: string | null): string {
  if (!v) return '';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return '';
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${d.getSeconds() ? `:${pad(d.getSeconds())}` : ''}`;
  return `${day}T${time}`;
}
