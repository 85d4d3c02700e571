import { useEffect } from 'react';

/** Has the browser ask before the tab closes or reloads: work on its way to the server would be lost. */
export function warnBeforeUnload(e: BeforeUnloadEvent) {
  e.preventDefault();
}

/** While `active`, closing or reloading the tab asks first. */
export function useWarnBeforeLeaving(active: boolean) {
  useEffect(() => {
    if (!active) return;
    window.addEventListener('beforeunload', warnBeforeUnload);
    return () => window.removeEventListener('beforeunload', warnBeforeUnload);
  }, [active]);
}
