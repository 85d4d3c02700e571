import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, setUnauthorizedHandler } from './client';
import { ApiError } from './errors';

/** A stand-in XMLHttpRequest: records the request; the test decides the answer. */
class FakeXHR {
  static last: FakeXHR | null = null;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown = null;
  status = 0;
  responseText = '';
  withCredentials = false;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXHR.last = this;
  }
  open(m: string, u: string) {
    this.method = m;
    this.url = u;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader() {
    return 'application/json';
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.onabort?.();
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

beforeEach(() => {
  vi.stubGlobal('XMLHttpRequest', FakeXHR);
  document.cookie = 'csrftoken=abc; path=/';
  window.history.replaceState(null, '', '/');
});
afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = 'csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/';
});

describe('uploadCaseWithProgress', () => {
  it('posts the form with the CSRF header and reports progress', async () => {
    const seen: number[] = [];
    const p = api.uploadCaseWithProgress(new File(['x'], 'a.nii.gz'), { label: 'L', onProgress: (f) => seen.push(f) });
    const xhr = FakeXHR.last!;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/cases');
    expect(xhr.headers['X-CSRF-Token']).toBe('abc');
    expect(xhr.body).toBeInstanceOf(FormData);
    expect((xhr.body as FormData).get('label')).toBe('L');
    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 });
    xhr.respond(201, { id: 9, label: 'L' });
    await expect(p).resolves.toMatchObject({ id: 9 });
    expect(seen).toEqual([0.5, 1]);
  });

  it('rejects with the server detail', async () => {
    const p = api.uploadCaseWithProgress(new File(['x'], 'a.txt'));
    FakeXHR.last!.respond(415, { detail: 'Only NIfTI files (.nii, .nii.gz) are accepted.' });
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(415);
    expect(err.message).toBe('Only NIfTI files (.nii, .nii.gz) are accepted.');
  });

  it('sends an expired session to the login page', async () => {
    window.history.replaceState(null, '', '/?status=failed');
    const seen: string[] = [];
    const restore = setUnauthorizedHandler((to) => seen.push(to));
    const p = api.uploadCaseWithProgress(new File(['x'], 'a.nii'));
    FakeXHR.last!.respond(401, { detail: 'Not signed in.' });
    await p.catch(() => undefined);
    restore();
    expect(seen).toEqual(['/?status=failed']);
  });

  it('reports a network error as status 0', async () => {
    const p = api.uploadCaseWithProgress(new File(['x'], 'a.nii'));
    FakeXHR.last!.onerror?.();
    const err = await p.catch((e) => e);
    expect(err.status).toBe(0);
  });
});
