import { useState } from 'preact/hooks';
import { api, ApiError, setCsrf, type Session } from '../api';
import { lang, setLang, t } from '../i18n';
import { useSignal } from '../signal';

// M1: the login, and the password change the first login must make before anything else.
export function Login({ session, onDone }: { session: Session | null; onDone: () => void }) {
  useSignal(lang);
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError('');
    try {
      await f();
      onDone();
    } catch (e) {
      const problems = e instanceof ApiError && e.body?.problems ? ': ' + e.body.problems.join('; ') : '';
      setError((e as Error).message + problems);
    } finally {
      setBusy(false);
    }
  };
  const login = (ev: Event) => {
    ev.preventDefault();
    run(async () => {
      const s = await api<Session>('POST', '/api/v1/session', { user, password });
      setCsrf(s.csrf);
    });
  };
  const change = (ev: Event) => {
    ev.preventDefault();
    run(async () => {
      await api('PUT', '/api/v1/session/password', { current_password: current, new_password: next });
    });
  };
  return (
    <div class="login">
      <form onSubmit={session ? change : login} aria-labelledby="login-title">
        <h1 id="login-title">{t('title')}</h1>
        {session ? (
          <>
            <p class="note">{t('change_password_first')}</p>
            <label>
              {t('current_password')}
              <input type="password" name="current" autocomplete="current-password" value={current}
                onInput={(e) => setCurrent((e.target as HTMLInputElement).value)} required />
            </label>
            <label>
              {t('new_password')}
              <input type="password" name="new" autocomplete="new-password" value={next}
                onInput={(e) => setNext((e.target as HTMLInputElement).value)} required />
            </label>
            <button type="submit" disabled={busy}>{t('change_password')}</button>
          </>
        ) : (
          <>
            <label>
              {t('user')}
              <input name="user" autocomplete="username" value={user}
                onInput={(e) => setUser((e.target as HTMLInputElement).value)} required />
            </label>
            <label>
              {t('password')}
              <input type="password" name="password" autocomplete="current-password" value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)} required />
            </label>
            <button type="submit" disabled={busy}>{t('login')}</button>
          </>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        <button type="button" class="link" onClick={() => setLang(lang.get() === 'ko' ? 'en' : 'ko')}>
          {t('language')}
        </button>
      </form>
    </div>
  );
}
