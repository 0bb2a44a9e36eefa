// The supervisor's token: taken from the address's fragment (#token=...,
// which the browser never sends) or asked for, kept in sessionStorage for
// this tab only, and sent as a Bearer header. 401 and 403 bring the form
// back with the reason.
import {t} from '/static/i18n.js';

const KEY = 'kic.token';

export class AuthError extends Error {
  constructor(status) {
    super(t(status === 403 ? 'error_403' : 'error_401'));
    this.status = status;
  }
}

/* Moves a token in the fragment into sessionStorage and out of the
 * address bar (and so out of history, bookmarks and screenshots). */
export function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return;
  sessionStorage.setItem(KEY, token);
  history.replaceState(null, '', location.pathname + location.search);
}

export function token() {
  return sessionStorage.getItem(KEY);
}

/* fetch() with the token; AuthError on 401/403 (the token is dropped),
 * Error with the server's message on any other failure. */
export async function apiFetch(url, options = {}) {
  const headers = {...options.headers, Authorization: `Bearer ${token()}`};
  const resp = await fetch(url, {...options, headers, cache: 'no-store'});
  if (resp.status === 401 || resp.status === 403) {
    sessionStorage.removeItem(KEY);
    throw new AuthError(resp.status);
  }
  if (!resp.ok) throw new Error(t('error_other', await errorText(resp)));
  return resp;
}

async function errorText(resp) {
  try {
    const body = await resp.json();
    return body.error?.message ?? resp.status;
  } catch {
    return `HTTP ${resp.status}`;
  }
}

/* Shows the token form with `message` until a token is entered; resolves
 * once it is stored. */
export function askToken(message) {
  const form = document.getElementById('token-form');
  form.querySelector('[data-auth-message]').textContent = message;
  form.hidden = false;
  const input = form.querySelector('input');
  input.value = '';
  input.focus();
  return new Promise(resolve => {
    form.onsubmit = ev => {
      ev.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      sessionStorage.setItem(KEY, value);
      form.hidden = true;
      resolve();
    };
  });
}

/* Runs start() once there is a token, and again after the form whenever
 * start() fails with AuthError. */
export async function withToken(start) {
  takeTokenFromFragment();
  let message = t('token_needed');
  for (;;) {
    if (token()) {
      try {
        await start();
        return;
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        message = err.message;
      }
    }
    await askToken(message);
  }
}
