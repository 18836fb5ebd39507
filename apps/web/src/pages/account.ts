import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, describe, field, humanTime, keepTokens } from '../api';

interface Session {
  readonly session_id: string;
  readonly device: string;
  readonly address: string;
  readonly created_at: number;
  readonly last_used_at: number;
  readonly current: boolean;
}

/** Account security: where you are signed in, the password, the authenticator app. */
export function AccountPage() {
  const [sessions, setSessions] = useState<Session[]>([]);
  const [message, setMessage] = useState('');
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [recovery, setRecovery] = useState<string[]>([]);
  const load = useCallback(async () => {
    try {
      setSessions((await api<{ sessions: Session[] }>('GET', '/v1/auth/sessions')).sessions);
    } catch (failure) {
      setMessage(describe(failure));
    }
  }, []);
  useEffect(() => void load(), [load]);
  const form = (handler: (data: FormData) => Promise<string>) => async (event: Event) => {
    event.preventDefault();
    const target = event.currentTarget as HTMLFormElement;
    try {
      setMessage(await handler(new FormData(target)));
      target.reset();
      await load();
    } catch (failure) {
      setMessage(describe(failure));
    }
  };
  return html`
    <h1>Account</h1>
    <p role="status" class="status">${message}</p>
    <section aria-labelledby="sessions">
      <h2 id="sessions">Where you are signed in</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Address</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last used</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          ${sessions.map(
            (s) =>
              html`<tr key=${s.session_id}>
                <td>${s.device || 'unknown'}${s.current ? html` <strong>(this one)</strong>` : null}</td>
                <td>${s.address}</td>
                <td>${humanTime(s.created_at)}</td>
                <td>${humanTime(s.last_used_at)}</td>
                <td>
                  ${
                    s.current
                      ? null
                      : html`<button
                          type="button"
                          onClick=${form(async () => (await api('DELETE', `/v1/auth/sessions/${s.session_id}`), 'Session ended'))}
                        >
                          End
                        </button>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="password">
      <h2 id="password">Password</h2>
      <form
        onSubmit=${form(async (data) => {
          await api('POST', '/v1/auth/password', { current_password: field(data, 'current'), new_password: field(data, 'new') });
          return 'Password changed; your other sessions ended';
        })}
      >
        <label>Current password <input name="current" type="password" autocomplete="current-password" required /></label>
        <label>New password <input name="new" type="password" autocomplete="new-password" required minlength="10" /></label>
        <button type="submit">Change password</button>
      </form>
    </section>
    <section aria-labelledby="totp">
      <h2 id="totp">Authenticator app</h2>
      ${
        enrolment
          ? html`<form
              onSubmit=${form(async (data) => {
                setRecovery(
                  (await api<{ recovery_codes: string[] }>('POST', '/v1/auth/totp/confirm', { code: field(data, 'code') }))
                    .recovery_codes,
                );
                setEnrolment(null);
                return 'Authenticator app on: sign-in codes now come from it';
              })}
            >
              <p>
                Add this key to your app: <code>${enrolment.secret}</code> (or open
                <a href=${enrolment.otpauth_uri}>the setup link</a>)
              </p>
              <label>Code from the app <input name="code" inputmode="numeric" autocomplete="one-time-code" required /></label>
              <button type="submit">Confirm</button>
            </form>`
          : html`<form
              onSubmit=${form(async (data) => {
                setEnrolment(
                  await api<{ secret: string; otpauth_uri: string }>('POST', '/v1/auth/totp/enroll', {
                    password: field(data, 'password'),
                  }),
                );
                return 'Enter the code your app shows';
              })}
            >
              <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
              <button type="submit">Set up an authenticator app</button>
            </form>`
      }
      ${
        recovery.length > 0
          ? html`<p>Recovery codes (shown once; each works once instead of a code):</p>
              <ul class="codes">
                ${recovery.map((c) => html`<li key=${c}><code>${c}</code></li>`)}
              </ul>`
          : null
      }
      <form
        onSubmit=${form(async (data) => {
          await api('POST', '/v1/auth/totp/disable', { code: field(data, 'code'), password: field(data, 'password') });
          return 'Authenticator app off: sign-in codes come by email';
        })}
      >
        <label>Code or recovery code <input name="code" required /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        <button type="submit">Turn the authenticator app off</button>
      </form>
    </section>
    <section aria-labelledby="everywhere">
      <h2 id="everywhere">Sign out everywhere</h2>
      <button
        type="button"
        onClick=${form(async () => (await api('POST', '/v1/auth/logout-all'), keepTokens(null), 'Signed out everywhere'))}
      >
        End every session
      </button>
    </section>
  `;
}
