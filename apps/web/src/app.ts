import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, keepTokens, type Me, onTokens, storedTokens } from './api';
import { AccountPage } from './pages/account';
import { ClusterPage, UsersPage } from './pages/admin';
import { FilesPage } from './pages/files';
import { SignInPage, SignUpPage } from './pages/sign-in';
import { TrashPage } from './pages/trash';
import { go, useRoute } from './router';

/** The signed-in frame: navigation, the page of the route, sign-out. */
export function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(storedTokens() !== null);
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => onTokens((tokens) => setSignedIn(tokens !== null)), []);
  useEffect(() => {
    if (signedIn) void api<Me>('GET', '/v1/auth/me').then(setMe, () => setMe(null));
    else setMe(null);
  }, [signedIn]);

  if (!signedIn) return route === '/signup' ? html`<${SignUpPage} />` : html`<${SignInPage} />`;
  const signOut = async () => {
    await api('POST', '/v1/auth/logout').catch(() => undefined);
    keepTokens(null);
    go('/signin');
  };
  const admin = me?.role === 'admin';
  const link = (to: string, label: string) =>
    html`<a href=${`#${to}`} aria-current=${route === to ? 'page' : undefined}>${label}</a>`;
  const page =
    route === '/trash'
      ? html`<${TrashPage} />`
      : route === '/account'
        ? html`<${AccountPage} />`
        : route === '/admin/users' && admin
          ? html`<${UsersPage} />`
          : route === '/admin/cluster' && admin
            ? html`<${ClusterPage} />`
            : html`<${FilesPage} />`;
  return html`
    <header class="bar">
      <span class="brand">cloudstore</span>
      <nav aria-label="Main">
        ${link('/files', 'Files')} ${link('/trash', 'Trash')} ${link('/account', 'Account')}
        ${admin ? html`${link('/admin/users', 'Users')} ${link('/admin/cluster', 'Cluster')}` : null}
      </nav>
      <span class="who">${me ? `${me.username} (${me.role})` : ''}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main">${page}</main>
  `;
}
