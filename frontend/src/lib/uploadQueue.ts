import { useSyncExternalStore } from 'react';
import type { SeriesChoice } from '../api/types';
import type { Sequence } from './modelChoices';
import { warnBeforeUnload } from './leaveGuard';

/**
 * The upload rows of this tab, kept outside the upload form: a request goes on when the reader opens a case
 * meanwhile, and its outcome ("Uploaded", "already uploaded as case 4", the series to choose from) must still be
 * there on coming back. Rows belong to the user who sent them; another user signed in on the same workstation sees
 * none of them (file names may carry a patient's name). Memory only: nothing is stored.
 */

export interface UploadRow {
  key: string;
  name: string;
  progress: number; // 0..1
  state: 'waiting' | 'uploading' | 'done' | 'error';
  message?: string;
  /** the upload held several DICOM series: the ones to choose from */
  choices?: SeriesChoice[];
}

/** What an upload row sent, to send again with a chosen series. */
export interface SentUpload {
  files: File[];
  label?: string;
  sequence: Sequence;
}

interface QueueState {
  owner: string | null;
  rows: UploadRow[];
  busy: boolean;
}

const EMPTY: QueueState = { owner: null, rows: [], busy: false };
let state: QueueState = EMPTY;
const listeners = new Set<() => void>();
/** by row key; dropped with the rows when another user starts uploading */
export const sentUploads = new Map<string, SentUpload>();

function set(next: QueueState) {
  state = next;
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// closing or reloading the tab would cut a request off half-sent: the browser asks first
/** A new batch of `owner`'s: it replaces the rows shown before (another user's rows and sends go entirely). */
export function startBatch(owner: string, rows: UploadRow[]) {
  if (state.owner !== owner) sentUploads.clear();
  set({ owner, rows, busy: state.owner === owner && state.busy });
}

export function patchRow(key: string, p: Partial<UploadRow>) {
  set({ ...state, rows: state.rows.map((r) => (r.key === key ? { ...r, ...p } : r)) });
}

export function setUploadBusy(busy: boolean) {
  if (busy !== state.busy) {
    if (busy) window.addEventListener('beforeunload', warnBeforeUnload);
    else window.removeEventListener('beforeunload', warnBeforeUnload);
  }
  set({ ...state, busy });
}

/** False once another user has started uploading in this tab: a batch still going stops sending `user`'s files. */
export function ownsUploads(user: string): boolean {
  return state.owner === user;
}

/** The rows and whether a request is on its way, as `user` may see them. */
export function useUploadQueue(user: string): { rows: UploadRow[]; busy: boolean } {
  const s = useSyncExternalStore(subscribe, () => state);
  return s.owner === user ? s : EMPTY;
}

/** For tests: back to no rows. */
export function resetUploadQueue() {
  sentUploads.clear();
  setUploadBusy(false);
  set(EMPTY);
}
