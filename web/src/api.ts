// The REST API (docs/openapi.yaml) from the page: the session cookie goes by itself; state-changing
// requests carry the session's CSRF token.
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: any,
  ) {
    super(message);
  }
}

let csrf = '';
export function setCsrf(token: string) {
  csrf = token;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  // A session that expired or was closed elsewhere: the page goes back to the login.
  if (r.status === 401 && !path.startsWith('/api/v1/session')) dispatchEvent(new Event('hasys-session-ended'));
  if (!r.ok) throw new ApiError(r.status, (parsed && parsed.error) || `${r.status} ${r.statusText}`, parsed);
  return parsed as T;
}

export interface Session {
  user: string;
  admin: boolean;
  read_only: boolean;
  must_change_password: boolean;
  csrf: string;
  idle_timeout_s: number;
}
