/**
 * The REST API as the web app uses it: the session cookie (HttpOnly, set by POST /v1/session), and the
 * session's CSRF token on unsafe methods. Errors keep the API's shape: `{error: {code, message}}`.
 */
const CSRF_KEY = 'retain.csrf';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The API's `error.details`, e.g. `{issues: [{path, message}]}` or `{field}`. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'error', e?.message ?? res.statusText, e?.details);
  }
  return json as T;
}

export interface Me {
  kind: 'key' | 'session';
  id: string;
  name: string;
  role: string;
}

export async function logIn(email: string, password: string): Promise<void> {
  const s = await api<{ csrfToken: string }>('/v1/session', { method: 'POST', body: { email, password } });
  sessionStorage.setItem(CSRF_KEY, s.csrfToken);
}

export async function logOut(): Promise<void> {
  await api('/v1/session', { method: 'DELETE' }).catch(() => undefined);
  sessionStorage.removeItem(CSRF_KEY);
}
