import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, describe } from './api';

/** A GET of the API, loaded at once and again on `reload`; its failure as a line. */
export function useLoaded<T>(path: string): { value: T | null; error: string; reload: () => Promise<void> } {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState('');
  const reload = useCallback(async () => {
    try {
      setValue(await api<T>('GET', path));
      setError('');
    } catch (failure) {
      setError(describe(failure));
    }
  }, [path]);
  useEffect(() => void reload(), [reload]);
  return { value, error, reload };
}

/** Runs an action, says how it went (`done`, or the failure with its code), and reloads the page's data. */
export function useAction(reload: () => Promise<void>): {
  message: string;
  setMessage: (message: string) => void;
  act: (work: () => Promise<unknown>, done: string) => Promise<void>;
} {
  const [message, setMessage] = useState('');
  const act = async (work: () => Promise<unknown>, done: string) => {
    try {
      await work();
      setMessage(done);
      await reload();
    } catch (failure) {
      setMessage(describe(failure));
    }
  };
  return { message, setMessage, act };
}
