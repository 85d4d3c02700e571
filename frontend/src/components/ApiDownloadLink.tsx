import { useState, type MouseEvent, type ReactNode } from 'react';
import { fetchDownload, saveBlob } from '../lib/download';

/**
 * A link to a file of the API, downloaded through the app's client: a plain `download` link saves nothing and says
 * nothing once the session has ended (the browser drops the 401). Here an ended session goes to sign in as every
 * other request does, and any failure reaches ``onError`` for the page to show. It stays a link to the file, so
 * it reads and works as one (its role and name, Enter).
 */
export function ApiDownloadLink({
  href,
  fallbackName,
  onError,
  children,
}: {
  href: string;
  /** the file's name when the server names none */
  fallbackName: string;
  /** null when a download starts, the error when it failed */
  onError: (error: unknown) => void;
  children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);

  async function download() {
    setBusy(true);
    onError(null);
    try {
      const { blob, filename } = await fetchDownload(href);
      saveBlob(blob, filename ?? fallbackName);
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  }

  function onClick(e: MouseEvent<HTMLAnchorElement>) {
    // with a modifier key too: the browser's own download of it would fail as silently
    e.preventDefault();
    if (!busy) void download();
  }

  return (
    <a className="button-like" href={href} download={fallbackName} onClick={onClick} aria-busy={busy || undefined}>
      {children}
    </a>
  );
}
