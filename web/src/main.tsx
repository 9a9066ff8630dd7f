// The web manager (issue 12): login, group monitoring, the group page; live over the stream.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrf, type Session } from './api';
import { lang, setCatalogue, setLang, t, tr } from './i18n';
import { live, startLive, stopLive } from './live';
import { useSignal } from './signal';
import { Login } from './views/Login';
import { Overview } from './views/Overview';
import { GroupPage } from './views/Group';
import { SettingsPage } from './views/Settings';
import { AuditPage, EventsPage } from './views/Events';
import { AdminPage } from './views/Admin';
import { MultiPage } from './views/Multi';
import { FaultsPage } from './views/Faults';
import './app.css';

function useRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const f = () => setHash(location.hash);
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return hash.replace(/^#/, '') || '/';
}

function App() {
  useSignal(lang);
  const state = useSignal(live);
  const route = useRoute();
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const load = async () => {
    try {
      const s = await api<Session>('GET', '/api/v1/session');
      setCsrf(s.csrf);
      setSession(s);
    } catch {
      setSession(null);
    }
  };
  useEffect(() => {
    document.documentElement.lang = lang.get();
    load();
    const ended = () => setSession(null);
    addEventListener('hasys-session-ended', ended);
    return () => removeEventListener('hasys-session-ended', ended);
  }, []);
  const ready = session && !session.must_change_password;
  useEffect(() => {
    if (ready) {
      startLive();
      api<any[]>('GET', '/api/v1/event-catalogue').then(setCatalogue).catch(() => undefined);
    } else stopLive();
  }, [ready]);

  if (session === undefined) return <div class="loading">…</div>;
  if (!session || session.must_change_password)
    return <Login session={session} onDone={load} />;

  const logout = async () => {
    await api('DELETE', '/api/v1/session').catch(() => undefined);
    setSession(null);
  };
  const settingsMatch = route.match(/^\/group\/([^/]+)\/settings\/([^/]+)$/);
  const groupMatch = settingsMatch ? null : route.match(/^\/group\/([^/]+)$/);
  return (
    <div class={session.read_only ? 'app wall' : 'app'}>
      <header>
        <a href="#/" class="brand">{t('title')}</a>
        <nav>
          <a href="#/" aria-current={route === '/' ? 'page' : undefined}>{t('overview')}</a>
          <a href="#/events" aria-current={route === '/events' ? 'page' : undefined}>{tr('event_viewer')}</a>
          {session.admin && (
            <a href="#/audit" aria-current={route === '/audit' ? 'page' : undefined}>{tr('audit_log')}</a>
          )}
          {session.admin && (
            <a href="#/faults" aria-current={route === '/faults' ? 'page' : undefined}>{tr('fault_management')}</a>
          )}
          {session.admin && (
            <a href="#/admin" aria-current={route === '/admin' ? 'page' : undefined}>{tr('manager_settings')}</a>
          )}
        </nav>
        <span class="spacer" />
        <button type="button" class="link" onClick={() => setLang(lang.get() === 'ko' ? 'en' : 'ko')}>
          {t('language')}
        </button>
        <span class="who">
          {session.user}
          {session.read_only ? ` (${t('read_only_user')})` : ''}
        </span>
        <button type="button" onClick={logout}>{t('logout')}</button>
      </header>
      {!state.connected && (
        <div class="banner down" role="alert">{t('disconnected')}</div>
      )}
      <main>
        {settingsMatch ? (
          <SettingsPage group={decodeURIComponent(settingsMatch[1])} node={decodeURIComponent(settingsMatch[2])} session={session} />
        ) : groupMatch ? (
          <GroupPage name={decodeURIComponent(groupMatch[1])} session={session} />
        ) : route.startsWith('/multi/') ? (
          <MultiPage names={route.slice(7).split(',').map(decodeURIComponent).filter(Boolean)} />
        ) : route === '/events' ? (
          <EventsPage />
        ) : route === '/audit' && session.admin ? (
          <AuditPage />
        ) : route === '/admin' && session.admin ? (
          <AdminPage />
        ) : route === '/faults' && session.admin ? (
          <FaultsPage />
        ) : (
          <Overview wall={session.read_only} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
