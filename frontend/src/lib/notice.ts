import { useCallback, useState } from 'react';

/** A page's status-line notice, counted: shown by LiveNotice under its serial, a repeated notice is read out again. */
export interface Notice {
  text: string;
  serial: number;
}

/** [notice, setNotice] like useState's, for a page's one status line (the case page has its own: useCaseNotice). */
export function useNotice(): [Notice, (text: string) => void] {
  const [notice, setState] = useState<Notice>({ text: '', serial: 0 });
  const setNotice = useCallback((text: string) => setState((n) => ({ text, serial: n.serial + 1 })), []);
  return [notice, setNotice];
}
