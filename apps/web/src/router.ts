import { useEffect, useState } from 'preact/hooks';

/** The page, from the URL's fragment (`#/files`): the gateway serves one page, the fragment picks the view. */
export function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/files');
  useEffect(() => {
    const changed = () => setRoute(location.hash.slice(1) || '/files');
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function go(route: string): void {
  location.hash = route;
}
