import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';

export interface AddressForm<T> {
  form: T;
  setForm: Dispatch<SetStateAction<T>>;
  /** Call with the query the page is about to put in the address itself (Apply, a filter, the pager), so that
   * the change is not taken for a navigation and what is being typed stays. */
  writingAddress: (next: URLSearchParams) => void;
}

/**
 * A filter form filled from the address and refilled whenever the address's query changes by navigation (Back /
 * Forward, a nav link, a link from elsewhere): a form still showing the previous filters beside a list of other
 * rows would be read as their result, and an export would hold rows other than the form says. The page's own
 * writes (marked with ``writingAddress``) leave the form alone: the reader may have typed on since, and a search
 * applied as it is typed would otherwise lose the keys pressed while it was applied.
 *
 * ``onFollow`` runs when the form is refilled, for state that belongs to the form's contents (a field's error).
 */
export function useAddressForm<T>(
  params: URLSearchParams,
  fromAddress: (params: URLSearchParams) => T,
  onFollow?: (params: URLSearchParams) => void,
): AddressForm<T> {
  const search = params.toString();
  const [form, setForm] = useState<T>(() => fromAddress(params));
  const seen = useRef(search);
  // the page's writes not yet seen in the address (two may be made before the page renders again)
  const ownWrites = useRef<string[]>([]);
  const latest = useRef({ params, fromAddress, onFollow });
  latest.current = { params, fromAddress, onFollow };

  useEffect(() => {
    if (search === seen.current) return;
    seen.current = search;
    const pending = ownWrites.current;
    const own = pending.indexOf(search);
    // a write of the page lands: the ones before it were overtaken; a navigation drops them all
    ownWrites.current = own >= 0 ? pending.slice(own + 1) : [];
    if (own >= 0) return;
    const { params: now, fromAddress: read, onFollow: follow } = latest.current;
    setForm(read(now));
    follow?.(now);
  }, [search]);

  const writingAddress = useCallback((next: URLSearchParams) => {
    const query = next.toString();
    // the address as it is: no change will come to match it, and a later Back to it must refill the form
    if (query !== seen.current) ownWrites.current.push(query);
  }, []);

  return { form, setForm, writingAddress };
}
