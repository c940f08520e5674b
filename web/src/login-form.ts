/**
 * The sign-in form. Its markup lives in index.html; this module binds to it, hands the credentials
 * to `signIn`, and shows what went wrong.
 */
import type { Credentials, LoginResult } from './api';
import { required } from './dom';
import { loginFailureText } from './login';

export interface LoginView {
  /**
   * Readies the form on a visible sign-in page (see render.ts's `showPage`): no password, no
   * error, a notice saying why the user is here (signed out, session ended) or none, and the
   * focus on the first field to fill.
   */
  open(notice: string | null): void;
}

/**
 * Binds the form in `root`. On submit it calls `signIn`, which switches to the dashboard itself
 * on success; a failure is shown here.
 */
export function createLoginView(
  root: Document,
  signIn: (credentials: Credentials) => Promise<LoginResult>,
): LoginView {
  const form = required<HTMLFormElement>(root, 'login-form');
  const username = required<HTMLInputElement>(form, 'login-username');
  const password = required<HTMLInputElement>(form, 'login-password');
  const submit = required<HTMLButtonElement>(form, 'login-submit');
  const notice = required<HTMLElement>(form, 'login-notice');
  const error = required<HTMLElement>(form, 'login-error');
  let busy = false;

  function showNotice(text: string | null) {
    notice.textContent = text ?? '';
    notice.hidden = text === null;
  }

  function showError(text: string | null, invalidFields = false) {
    error.textContent = text ?? '';
    error.hidden = text === null;
    for (const input of [username, password]) {
      if (invalidFields) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  function setBusy(next: boolean) {
    busy = next;
    submit.disabled = next;
    submit.textContent = next ? 'Signing in…' : 'Sign in';
    form.setAttribute('aria-busy', String(next));
  }

  async function attempt() {
    setBusy(true);
    showNotice(null);
    showError(null);
    let result: LoginResult;
    try {
      result = await signIn({ username: username.value.trim(), password: password.value });
    } catch (thrown) {
      result = { kind: 'error', problem: thrown instanceof Error ? thrown.message : String(thrown) };
    } finally {
      setBusy(false);
    }
    if (result.kind === 'ok') {
      password.value = '';
      return;
    }
    const wrong = result.kind === 'invalid-credentials';
    showError(loginFailureText(result), wrong);
    if (wrong) password.value = '';
    password.focus();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!busy) void attempt();
  });

  return {
    open(text) {
      showNotice(text);
      showError(null);
      password.value = '';
      (username.value === '' ? username : password).focus();
    },
  };
}
