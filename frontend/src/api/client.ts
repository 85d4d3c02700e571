import createClient, { type Middleware } from 'openapi-fetch';
import type {
  ApiToken,
  AuditPage,
  AuditQuery,
  CaseVerdict,
  CaseVerdictIn,
  Claim,
  Job,
  MissedFinding,
  MissedFindingIn,
  ModelCatalogue,
  QueueStatus,
  StorageSpace,
  Stats,
  User,
  UserCreate,
  UserUpdate,
  CaseDetail,
  CaseList,
  FileKind,
  FlagVerdict,
  ListCasesQuery,
  Me,
  NewApiToken,
  PasswordChanged,
  paths,
  VerdictIn,
} from './types';
import { ApiError, apiErrorFromResponse } from './errors';
import { currentLocationPath, loginPath } from '../lib/returnTo';
import type { Sequence } from '../lib/modelChoices';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const CSRF_COOKIE = 'csrftoken';
export const CSRF_HEADER = 'X-CSRF-Token';

export function readCookie(name: string, cookieString: string = typeof document === 'undefined' ? '' : document.cookie): string | null {
  for (const part of cookieString.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return part.slice(eq + 1).trim();
      }
    }
  }
  return null;
}

/** Adds the CSRF header to a mutating request's headers (in place). */
export function addCsrfHeader(method: string, headers: Headers): void {
  if (!MUTATING.has(method.toUpperCase())) return;
  const token = readCookie(CSRF_COOKIE);
  if (token && !headers.has(CSRF_HEADER)) headers.set(CSRF_HEADER, token);
}

// ---- 401 handling -------------------------------------------------------------------------

/** `reason`: why the service ended the session (the 401's `reason`: ended, idle, lifetime, disabled), if it said. */
type UnauthorizedHandler = (returnTo: string, reason?: string) => void;

const defaultUnauthorized: UnauthorizedHandler = (returnTo, reason) => {
  window.location.assign(loginPath(returnTo, reason));
};
let onUnauthorized: UnauthorizedHandler = defaultUnauthorized;

/** The app installs a router-aware handler; tests may install a spy. Returns a restore function. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): () => void {
  const previous = onUnauthorized;
  onUnauthorized = handler ?? defaultUnauthorized;
  return () => {
    onUnauthorized = previous;
  };
}

/** Paths whose 401 is an answer for the caller (wrong password), not an expired session. */
const NO_REDIRECT_PATHS = ['/api/auth/login', '/api/auth/logout'];

/** The `reason` of a 401's body, when it has one. */
function endReason(body: unknown): string | undefined {
  const reason = (body as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

function handleUnauthorized(url: string, reason?: string): void {
  let path = url;
  try {
    path = new URL(url, 'http://x').pathname;
  } catch {
    /* keep raw */
  }
  if (NO_REDIRECT_PATHS.includes(path)) return;
  if (typeof window === 'undefined') return;
  if (window.location.pathname === '/login') return;
  onUnauthorized(currentLocationPath(), reason);
}

// ---- the fetch layer ----------------------------------------------------------------------

function baseUrl(): string {
  return typeof window !== 'undefined' && window.location?.origin && window.location.origin !== 'null'
    ? window.location.origin
    : 'http://localhost';
}

/** fetch() with our conventions: same-origin cookies, CSRF header, ApiError, 401 redirect. */
export async function apiFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const method = (init.method ?? 'GET').toUpperCase();
  addCsrfHeader(method, headers);
  let response: Response;
  try {
    response = await globalThis.fetch(new URL(input, baseUrl()).toString(), {
      ...init,
      method,
      headers,
      credentials: 'same-origin',
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
  if (!response.ok) {
    const err = await apiErrorFromResponse(response);
    if (response.status === 401) handleUnauthorized(input, endReason(err.body));
    throw err;
  }
  return response;
}

const conventions: Middleware = {
  onRequest({ request }) {
    addCsrfHeader(request.method, request.headers);
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status === 401) {
      const body: unknown = await response.clone().json().catch(() => null);
      handleUnauthorized(request.url, endReason(body));
    }
    return undefined;
  },
};

export const client = createClient<paths>({
  baseUrl: baseUrl(),
  credentials: 'same-origin',
  // resolve fetch lazily so tests can stub globalThis.fetch
  fetch: (req: Request) => globalThis.fetch(req),
});
client.use(conventions);

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Returns the data of an openapi-fetch call or throws an ApiError. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
  const { data, error, response } = outcome;
  if (!response.ok || error !== undefined) {
    throw await apiErrorFromResponse(response, error);
  }
  return data as T;
}

// ---- typed endpoints ----------------------------------------------------------------------

export type ListCasesParams = ListCasesQuery;

export const api = {
  login: (username: string, password: string): Promise<Me> =>
    unwrap(client.POST('/api/auth/login', { body: { username, password } })),

  logout: async (): Promise<void> => {
    await unwrap(client.POST('/api/auth/logout', { parseAs: 'stream' }));
  },

  me: (signal?: AbortSignal): Promise<Me> => unwrap(client.GET('/api/me', { signal })),

  models: (signal?: AbortSignal): Promise<ModelCatalogue> => unwrap(client.GET('/api/models', { signal })),
  queue: (signal?: AbortSignal): Promise<QueueStatus> => unwrap(client.GET('/api/queue', { signal })),
  storage: (signal?: AbortSignal): Promise<StorageSpace> => unwrap(client.GET('/api/storage', { signal })),

  listCases: (params: ListCasesParams = {}, signal?: AbortSignal): Promise<CaseList> =>
    unwrap(client.GET('/api/cases', { params: { query: params }, signal })),

  getCase: (caseId: number, signal?: AbortSignal): Promise<CaseDetail> =>
    unwrap(client.GET('/api/cases/{case_id}', { params: { path: { case_id: caseId } }, signal })),

  uploadCase: (file: File, label?: string, sequence?: 't1' | 't2' | 'flair'): Promise<CaseDetail> => {
    const form = new FormData();
    form.append('files', file, file.name);
    if (label && label.trim()) form.append('label', label.trim());
    if (sequence) form.append('sequence', sequence);
    return unwrap(
      client.POST('/api/cases', {
        // multipart: hand the FormData through untouched; the browser sets the boundary
        body: form as unknown as { files: string[]; sequence: string },
        bodySerializer: (b: unknown) => b as FormData,
      }),
    );
  },

  /** `version`: the verdict version the user last saw (0 = none yet); a stale one gets a 409. */
  putVerdict: (flagId: number, body: VerdictIn): Promise<FlagVerdict> =>
    unwrap(
      client.PUT('/api/flags/{flag_id}/verdict', {
        params: { path: { flag_id: flagId } },
        body,
      }),
    ),

  /**
   * Same request as `uploadCase`, over XMLHttpRequest so the browser reports upload progress
   * (fetch cannot). Same conventions: cookies, CSRF header, ApiError, 401 redirect.
   */
  uploadCaseWithProgress: (
    file: File | File[],
    opts: {
      label?: string;
      sequence?: 't1' | 't2' | 'flair';
      /** from an upload of several DICOM series, the `choice` of the one to analyse */
      series?: string;
      onProgress?: (fraction: number) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<CaseDetail> =>
    new Promise<CaseDetail>((resolve, reject) => {
      const form = new FormData();
      for (const f of Array.isArray(file) ? file : [file]) form.append('files', f, f.name);
      if (opts.label && opts.label.trim()) form.append('label', opts.label.trim());
      if (opts.sequence) form.append('sequence', opts.sequence);
      if (opts.series) form.append('series', opts.series);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/cases');
      xhr.withCredentials = false; // same origin: cookies are sent anyway
      xhr.setRequestHeader('Accept', 'application/json');
      const token = readCookie(CSRF_COOKIE);
      if (token) xhr.setRequestHeader(CSRF_HEADER, token);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) opts.onProgress?.(e.loaded / e.total);
      };
      xhr.onload = async () => {
        const response = new Response(xhr.responseText || null, {
          status: xhr.status,
          headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') ?? 'application/json' },
        });
        if (xhr.status >= 200 && xhr.status < 300) {
          opts.onProgress?.(1);
          try {
            resolve(JSON.parse(xhr.responseText) as CaseDetail);
          } catch {
            reject(new ApiError(xhr.status, 'The server sent an unreadable answer.'));
          }
          return;
        }
        const err = await apiErrorFromResponse(response);
        if (xhr.status === 401) handleUnauthorized('/api/cases', endReason(err.body));
        reject(err);
      };
      xhr.onerror = () => reject(new ApiError(0, 'Cannot reach the server. Check your connection and try again.'));
      xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
      opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(form);
    }),

  putCaseVerdict: (caseId: number, body: CaseVerdictIn): Promise<CaseVerdict> =>
    unwrap(client.PUT('/api/cases/{case_id}/verdict', { params: { path: { case_id: caseId } }, body })),

  claim: (caseId: number): Promise<Claim> =>
    unwrap(client.POST('/api/cases/{case_id}/claim', { params: { path: { case_id: caseId } } })),

  releaseClaim: async (caseId: number): Promise<void> => {
    await unwrap(
      client.DELETE('/api/cases/{case_id}/claim', { params: { path: { case_id: caseId } }, parseAs: 'stream' }),
    );
  },

  /**
   * Gives one's claim up when the reader leaves the case (another page, another case, the tab closing): a
   * plain `keepalive` fetch, started synchronously, so a `pagehide` handler can still send it while the page
   * unloads. It never sends anyone to the login page and never throws; it resolves true when the server
   * answered 2xx. The server releases only a claim the caller holds.
   */
  releaseClaimOnLeave: (caseId: number): Promise<boolean> => {
    const headers = new Headers();
    addCsrfHeader('DELETE', headers);
    try {
      return globalThis
        .fetch(new URL(`/api/cases/${caseId}/claim`, baseUrl()).toString(), {
          method: 'DELETE',
          headers,
          credentials: 'same-origin',
          keepalive: true,
        })
        .then(
          (r) => r.ok,
          () => false,
        );
    } catch {
      return Promise.resolve(false);
    }
  },

  reportReviewTime: async (caseId: number, seconds: number): Promise<void> => {
    await unwrap(
      client.POST('/api/cases/{case_id}/review-time', {
        params: { path: { case_id: caseId } },
        body: { seconds },
        parseAs: 'stream',
      }),
    );
  },

  addFinding: (caseId: number, body: MissedFindingIn): Promise<MissedFinding> =>
    unwrap(client.POST('/api/cases/{case_id}/findings', { params: { path: { case_id: caseId } }, body })),

  deleteFinding: async (findingId: number): Promise<void> => {
    await unwrap(
      client.DELETE('/api/findings/{finding_id}', { params: { path: { finding_id: findingId } }, parseAs: 'stream' }),
    );
  },

  deleteCase: async (caseId: number, reason: string): Promise<void> => {
    await unwrap(
      client.DELETE('/api/cases/{case_id}', {
        params: { path: { case_id: caseId } },
        body: { reason },
        parseAs: 'stream',
      }),
    );
  },

  listRuns: (caseId: number, signal?: AbortSignal): Promise<Job[]> =>
    unwrap(client.GET('/api/cases/{case_id}/runs', { params: { path: { case_id: caseId } }, signal })),

  /** `sequence`: run it as this sequence from now on (a case uploaded as the wrong one); null keeps the case's. */
  rerun: (caseId: number, modelProfile: string | null = null, sequence: Sequence | null = null): Promise<Job> =>
    unwrap(
      client.POST('/api/cases/{case_id}/runs', {
        params: { path: { case_id: caseId } },
        body: { model_profile: modelProfile, sequence },
      }),
    ),

  cancelJob: (jobId: number): Promise<Job> =>
    unwrap(client.POST('/api/jobs/{job_id}/cancel', { params: { path: { job_id: jobId } } })),

  audit: (query: AuditQuery, signal?: AbortSignal): Promise<AuditPage> =>
    unwrap(client.GET('/api/audit', { params: { query }, signal })),

  stats: (signal?: AbortSignal): Promise<Stats> => unwrap(client.GET('/api/stats', { signal })),

  listUsers: (signal?: AbortSignal): Promise<User[]> => unwrap(client.GET('/api/users', { signal })),

  createUser: (body: UserCreate): Promise<User> => unwrap(client.POST('/api/users', { body })),

  updateUser: (userId: number, body: UserUpdate): Promise<User> =>
    unwrap(client.PATCH('/api/users/{user_id}', { params: { path: { user_id: userId } }, body })),

  resetPassword: (userId: number, newPassword: string): Promise<PasswordChanged> =>
    unwrap(client.POST('/api/users/{user_id}/password', { params: { path: { user_id: userId } }, body: { new_password: newPassword } })),

  listUserTokens: (userId: number, signal?: AbortSignal): Promise<ApiToken[]> =>
    unwrap(client.GET('/api/users/{user_id}/tokens', { params: { path: { user_id: userId } }, signal })),

  revokeUserToken: async (userId: number, tokenId: number): Promise<void> => {
    await unwrap(
      client.DELETE('/api/users/{user_id}/tokens/{token_id}', {
        params: { path: { user_id: userId, token_id: tokenId } },
        parseAs: 'stream',
      }),
    );
  },

  changeOwnPassword: (currentPassword: string, newPassword: string): Promise<PasswordChanged> =>
    unwrap(client.POST('/api/me/password', { body: { current_password: currentPassword, new_password: newPassword } })),

  listMyTokens: (signal?: AbortSignal): Promise<ApiToken[]> => unwrap(client.GET('/api/me/tokens', { signal })),

  createMyToken: (name: string, validDays: number): Promise<NewApiToken> =>
    unwrap(client.POST('/api/me/tokens', { body: { name, valid_days: validDays } })),

  revokeMyToken: async (tokenId: number): Promise<void> => {
    await unwrap(
      client.DELETE('/api/me/tokens/{token_id}', { params: { path: { token_id: tokenId } }, parseAs: 'stream' }),
    );
  },

  /** Raw NIfTI bytes for the viewer (binary, so outside the JSON client). */
  caseFile: async (caseId: number, kind: FileKind, signal?: AbortSignal): Promise<ArrayBuffer> => {
    const res = await apiFetch(`/api/cases/${caseId}/files/${kind}`, { signal });
    return res.arrayBuffer();
  },
};
