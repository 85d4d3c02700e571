/** Error thrown for every failed API call: HTTP status plus a sentence a person can read. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;
  /** the whole JSON body, for fields beside `detail` (e.g. an upload's `series` to choose from) */
  readonly body: unknown;

  constructor(status: number, message: string, detail?: unknown, body?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.body = body;
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }
  get isConflict(): boolean {
    return this.status === 409;
  }
}

const FALLBACK: Record<number, string> = {
  0: 'Cannot reach the server. Check your connection and try again.',
  400: 'The request was not accepted.',
  401: 'Your session has expired. Please sign in again.',
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  409: 'Someone else changed this in the meantime.',
  413: 'The file is too large.',
  415: 'This file type is not supported.',
  422: 'The request could not be processed.',
  429: 'Too many requests. Please wait a moment.',
  500: 'The server had an internal error.',
  502: 'The server is not reachable right now.',
  503: 'The service is temporarily unavailable.',
};

export function fallbackMessage(status: number): string {
  if (FALLBACK[status]) return FALLBACK[status];
  if (status >= 500) return `The server had an error (HTTP ${status}).`;
  return `Request failed (HTTP ${status}).`;
}

interface ValidationItem {
  loc?: unknown[];
  msg?: unknown;
}

function formatValidationItem(item: ValidationItem): string | null {
  if (!item || typeof item !== 'object' || typeof item.msg !== 'string') return null;
  const loc = Array.isArray(item.loc)
    ? item.loc.filter((p) => p !== 'body' && p !== 'query' && p !== 'path').join('.')
    : '';
  return loc ? `${loc}: ${item.msg}` : item.msg;
}

/**
 * Turns the `detail` of a `{"detail": ...}` body into one readable message.
 * Handles the plain-string form our API uses, FastAPI's validation list, and odd shapes.
 */
export function messageFromDetail(detail: unknown, status: number): string {
  if (typeof detail === 'string' && detail.trim()) return detail.trim();
  if (Array.isArray(detail)) {
    const parts = detail.map((d) => formatValidationItem(d as ValidationItem)).filter(Boolean);
    if (parts.length) return parts.join('; ');
  }
  if (detail && typeof detail === 'object') {
    const msg = (detail as { message?: unknown; msg?: unknown }).message ?? (detail as { msg?: unknown }).msg;
    if (typeof msg === 'string' && msg.trim()) return msg.trim();
  }
  return fallbackMessage(status);
}

/** Builds an ApiError from a failed Response, reading the JSON body when there is one. */
export async function apiErrorFromResponse(response: Response, body?: unknown): Promise<ApiError> {
  let parsed = body;
  if (parsed === undefined) {
    try {
      const text = await response.clone().text();
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
  }
  const detail =
    parsed && typeof parsed === 'object' && 'detail' in (parsed as object)
      ? (parsed as { detail: unknown }).detail
      : undefined;
  return new ApiError(response.status, messageFromDetail(detail, response.status), detail, parsed);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
