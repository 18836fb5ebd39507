import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, describe, field, keepTokens, type Tokens } from '../api';
import { go } from '../router';

interface LoginAnswer {
  readonly session_id: string;
  readonly otp_method: 'email' | 'totp';
}

/** Sign-in in two steps: the password, then the mailed code or the authenticator's. */
export function SignInPage() {
  const [step, setStep] = useState<LoginAnswer | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError('');
    try {
      if (!step) {
        setStep(
          await api<LoginAnswer>('POST', '/v1/auth/login', {
            username: field(form, 'username'),
            password: field(form, 'password'),
          }),
        );
      } else {
        keepTokens(await api<Tokens>('POST', '/v1/auth/verify-otp', { session_id: step.session_id, otp: field(form, 'otp') }));
        go('/files');
      }
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  };

  return html`
    <main class="card" id="main">
      <h1>Sign in to cloudstore</h1>
      <form onSubmit=${submit}>
        ${
          step
            ? html`<label
                >${step.otp_method === 'totp' ? 'Code from your authenticator app' : 'Code sent to your email'}
                <input name="otp" inputmode="numeric" autocomplete="one-time-code" required autofocus
              /></label>`
            : html`<label>Username or email <input name="username" autocomplete="username" required autofocus /></label>
                <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>`
        }
        <p class="error" role="alert">${error}</p>
        <button type="submit" disabled=${busy}>${step ? 'Verify' : 'Continue'}</button>
      </form>
      <p>No account? <a href="#/signup">Sign up</a></p>
    </main>
  `;
}

export function SignUpPage() {
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setError('');
    try {
      await api('POST', '/v1/auth/register', {
        username: field(form, 'username'),
        email: field(form, 'email'),
        password: field(form, 'password'),
      });
      setDone(field(form, 'username'));
    } catch (failure) {
      setError(describe(failure));
    }
  };
  return html`
    <main class="card" id="main">
      <h1>Create an account</h1>
      ${
        done
          ? html`<p role="status">Account ${done} created. <a href="#/signin">Sign in</a></p>`
          : html`<form onSubmit=${submit}>
              <label>Username <input name="username" autocomplete="username" required autofocus /></label>
              <label>Email <input name="email" type="email" autocomplete="email" required /></label>
              <label
                >Password <input name="password" type="password" autocomplete="new-password" required minlength="10"
              /></label>
              <p class="error" role="alert">${error}</p>
              <button type="submit">Sign up</button>
            </form>`
      }
      <p>Have an account? <a href="#/signin">Sign in</a></p>
    </main>
  `;
}
