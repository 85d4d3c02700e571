/**
 * Files dropped on the upload area, folders included: each dropped directory is walked with the
 * (webkit) FileSystem entry API and its files get `webkitRelativePath` = "folder/…/name", like the
 * folder picker gives, so a dropped DICOM folder becomes one series.
 */

/** The parts of FileSystemEntry & co. we use (so tests can fake them). */
export interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath?: string;
  file?(ok: (f: File) => void, fail?: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (entries: EntryLike[]) => void, fail?: (e: unknown) => void): void };
}

export interface DropItemLike {
  kind: string;
  getAsFile(): File | null;
  webkitGetAsEntry?(): EntryLike | null;
}

/** Upper bound on files taken from one drop (a mistaken drop of a whole disk stops here). */
export const MAX_DROP_FILES = 5000;

export function withRelativePath(f: File, path: string): File {
  try {
    Object.defineProperty(f, 'webkitRelativePath', { value: path, configurable: true });
  } catch {
    /* keep as is */
  }
  return f;
}

function fileOf(entry: EntryLike): Promise<File> {
  return new Promise((resolve, reject) => {
    if (!entry.file) reject(new Error(`Cannot read ${entry.name}`));
    else entry.file(resolve, reject);
  });
}

/** All entries of a directory (readEntries returns them in batches until an empty one). */
export async function readAllEntries(dir: EntryLike): Promise<EntryLike[]> {
  const reader = dir.createReader?.();
  if (!reader) return [];
  const all: EntryLike[] = [];
  for (;;) {
    const batch = await new Promise<EntryLike[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
    if (all.length > MAX_DROP_FILES) return all;
  }
}

async function walk(entry: EntryLike, prefix: string, out: File[]): Promise<void> {
  if (out.length >= MAX_DROP_FILES) return;
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const f = await fileOf(entry);
    out.push(prefix ? withRelativePath(f, path) : f);
  } else if (entry.isDirectory) {
    const children = await readAllEntries(entry);
    children.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (const child of children) await walk(child, path, out);
  }
}

/**
 * Files of a drop: plain files as they are, directories walked recursively. Falls back to
 * `files` where the browser offers no entries.
 */
export async function filesFromDrop(items: ArrayLike<DropItemLike> | null, files: ArrayLike<File> | null): Promise<File[]> {
  const entries: EntryLike[] = [];
  const loose: File[] = [];
  // entries must be taken synchronously, before the drop event returns
  for (const item of Array.from(items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() ?? null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (!entries.length && !loose.length) return Array.from(files ?? []);
  const out: File[] = [...loose];
  for (const e of entries) await walk(e, '', out);
  return out;
}

/** Top folder of a file chosen or dropped within a folder, else null. */
export function topFolder(f: File): string | null {
  const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
  if (!rel || !rel.includes('/')) return null;
  return rel.split('/')[0] || null;
}
