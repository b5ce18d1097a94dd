// Loads what a page shows, and loads it again after a change. A page that is left before its answer
// arrives ignores the answer.
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from './api/client.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, err instanceof Error ? err.message : String(err));
}

const sameDeps = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((value, i) => Object.is(value, b[i]));

/**
 * A reload keeps showing what is there until the new answer arrives; a change of what is loaded (another
 * account, another page) drops it in the same render, so one account's rows never sit under another's
 * heading, not even for a frame.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ for: readonly unknown[]; data?: T; error?: ApiError; loading: boolean }>({ for: deps, loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => (sameDeps(previous.for, deps) ? { ...previous, loading: true } : { for: deps, loading: true }));
    load().then(
      (data) => current && setState({ for: deps, data, loading: false }),
      (err: unknown) => current && setState({ for: deps, error: asApiError(err), loading: false }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the load depends on
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  if (!sameDeps(state.for, deps)) return { data: undefined, error: undefined, loading: true, reload };
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** A form's submit: busy while it runs, its error kept for the page to show. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const run = async (...args: A): Promise<{ ok: true; value: R } | { ok: false; error: ApiError }> => {
    setBusy(true);
    setError(undefined);
    try {
      return { ok: true, value: await action(...args) };
    } catch (err) {
      const error = asApiError(err);
      setError(error);
      return { ok: false, error };
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clearError: () => setError(undefined) };
}
