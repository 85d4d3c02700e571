// Saving what the API sent as a file on the reader's computer.

import { apiFetch } from '../api/client';

/**
 * The filename a Content-Disposition header names, or null: the RFC 5987 form (`filename*=UTF-8''…`) before the
 * plain one, as browsers read it. Only the name is kept: a path in it must not say where the file goes.
 */
export function filenameFromContentDisposition(header: string | null | undefined): string | null {
  if (!header) return null;
  let name: string | null = null;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (extended) {
    try {
      name = decodeURIComponent(extended[2].trim().replace(/^"|"$/g, ''));
    } catch {
      name = null;
    }
  }
  if (!name) {
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
    if (plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2];
  }
  const base = name?.split(/[\\/]/).pop()?.trim();
  return base && base !== '.' && base !== '..' ? base : null;
}

/** Offers ``blob`` as a file download named ``filename``: an anchor with a blob address, which browsers (and
 * Playwright's expect_download) treat as any other download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // revoked later, not at once: the browser reads the blob after click() returns
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * A file the API serves for download (the cases export), fetched as every other request is, so an ended session
 * sends the reader to sign in and a refusal throws an ApiError the page can show, where a plain link would save
 * nothing and say nothing. `filename`: the one the server's Content-Disposition names, null without one.
 */
export async function fetchDownload(path: string, signal?: AbortSignal): Promise<{ blob: Blob; filename: string | null }> {
  const res = await apiFetch(path, { signal });
  const blob = await res.blob();
  return { blob, filename: filenameFromContentDisposition(res.headers.get('Content-Disposition')) };
}
