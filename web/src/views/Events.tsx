import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { eventText, lang, t, tr } from '../i18n';
import { useSignal } from '../signal';
import { clock } from './common';

// E3: basic (a field contains a keyword) and detailed search (period, severities, groups,
// servers), paging, CSV/XLSX export of the same query — always within the user's scope.
export function EventsPage() {
  useSignal(lang);
  const [kind, setKind] = useState<'basic' | 'detailed'>('basic');
  const [field, setField] = useState('text');
  const [keyword, setKeyword] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [severities, setSeverities] = useState<string[]>([]);
  const [groups, setGroups] = useState('');
  const [servers, setServers] = useState('');
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<any>(null);
  const [error, setError] = useState('');
  const pageSize = 50;

  const query = (): Record<string, string> => {
    const q: Record<string, string> = { kind, page: String(page), page_size: String(pageSize) };
    if (kind === 'basic') {
      q.field = field;
      q.keyword = keyword;
    } else {
      if (keyword) {
        q.field = field;
        q.keyword = keyword;
      }
      if (from) q.from = String(new Date(from).getTime());
      if (to) q.to = String(new Date(to).getTime());
      if (severities.length) q.severities = severities.join(',');
      if (groups) q.groups = groups;
      if (servers) q.servers = servers;
    }
    return q;
  };
  const search = async (p = page) => {
    setError('');
    const q = { ...query(), page: String(p) };
    try {
      setResult(await api<any>('GET', '/api/v1/events?' + new URLSearchParams(q).toString()));
      setPage(p);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    search(1);
  }, []);
  const exportAs = async (format: 'csv' | 'xlsx') => {
    setError('');
    const q = query();
    delete q.page;
    delete q.page_size;
    const csrf = (await api<any>('GET', '/api/v1/session')).csrf;
    const r = await fetch('/api/v1/events/export', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ format, max_rows: 100000, query: q }),
    });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      setError(new ApiError(r.status, body.error ?? r.statusText, body).message);
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = `hasys-events.${format}`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const toggleSeverity = (s: string) =>
    setSeverities(severities.includes(s) ? severities.filter((x) => x !== s) : [...severities, s]);
  const total = result?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));

  return (
    <section aria-labelledby="events-title">
      <div class="toolbar">
        <h1 id="events-title">{tr('event_viewer')}</h1>
      </div>
      <form class="tab-panel search" onSubmit={(e) => { e.preventDefault(); search(1); }}>
        <div class="row-fields">
          <label class="field">
            <span>{tr('search_kind')}</span>
            <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as any)}>
              <option value="basic">{tr('basic')}</option>
              <option value="detailed">{tr('detailed')}</option>
            </select>
          </label>
          <label class="field">
            <span>{tr('field')}</span>
            <select value={field} onChange={(e) => setField((e.target as HTMLSelectElement).value)}>
              {['text', 'code', 'group', 'server'].map((f) => <option value={f}>{f}</option>)}
            </select>
          </label>
          <label class="field">
            <span>{tr('keyword')}</span>
            <input name="keyword" value={keyword} onInput={(e) => setKeyword((e.target as HTMLInputElement).value)} />
          </label>
          {kind === 'detailed' && (
            <>
              <label class="field"><span>{tr('from')}</span>
                <input type="datetime-local" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
              <label class="field"><span>{tr('to')}</span>
                <input type="datetime-local" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
              <label class="field"><span>{t('ha_group')}</span>
                <input value={groups} placeholder="g1,g2" onInput={(e) => setGroups((e.target as HTMLInputElement).value)} /></label>
              <label class="field"><span>{t('server')}</span>
                <input value={servers} placeholder="node-a" onInput={(e) => setServers((e.target as HTMLInputElement).value)} /></label>
              <fieldset class="field">
                <legend>{t('severity')}</legend>
                {['information', 'warning', 'critical'].map((s) => (
                  <label class="inline" key={s}>
                    <input type="checkbox" checked={severities.includes(s)} onChange={() => toggleSeverity(s)} /> {s}
                  </label>
                ))}
              </fieldset>
            </>
          )}
        </div>
        <div class="actions">
          <button type="submit" class="primary">{tr('search')}</button>
          <span class="spacer" />
          <button type="button" onClick={() => exportAs('csv')}>CSV</button>
          <button type="button" onClick={() => exportAs('xlsx')}>Excel</button>
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {result && (
        <>
          <p class="muted" data-testid="event-total">{tr('found')}: {total}{result.total_exact ? '' : '+'}</p>
          <table class="events">
            <thead>
              <tr>
                <th scope="col">{t('time')}</th><th scope="col">{t('ha_group')}</th><th scope="col">{t('server')}</th>
                <th scope="col">{t('severity')}</th><th scope="col">code</th><th scope="col">{t('text')}</th>
              </tr>
            </thead>
            <tbody>
              {(result.events ?? []).map((row: any) => (
                <tr key={row.id} class={`sev-${row.event.severity}`}>
                  <td>{clock(row.event.time_unix_ms)}</td><td>{row.event.group}</td><td>{row.node}</td>
                  <td>{tr(`sev_${row.event.severity}`)}</td><td>{row.event.code}</td><td>{eventText(row.event)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="actions">
            <button type="button" disabled={page <= 1} onClick={() => search(page - 1)}>‹</button>
            <span>{page} / {pages}</span>
            <button type="button" disabled={page >= pages} onClick={() => search(page + 1)}>›</button>
          </div>
        </>
      )}
    </section>
  );
}

// The audit log (administrators): who did what, when, with what result; an operation's entry
// leads to the events it caused on the node and the group's events around it.
export function AuditPage() {
  useSignal(lang);
  const [rows, setRows] = useState<any[]>([]);
  const [linked, setLinked] = useState<{ id: number; data: any } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<any[]>('GET', '/api/v1/audit?limit=200').then(setRows).catch((e) => setError((e as Error).message));
  }, []);
  const open = async (id: number) => {
    try {
      setLinked({ id, data: await api<any>('GET', `/api/v1/audit/${id}/events`) });
    } catch (e) {
      setLinked({ id, data: { error: (e as Error).message } });
    }
  };
  const eventRows = (list: any[]) => (
    <ul>
      {list.map((r: any) => (
        <li key={r.id}>{clock(r.event.time_unix_ms)} {r.node} {r.event.severity} {eventText(r.event)}</li>
      ))}
    </ul>
  );
  return (
    <section aria-labelledby="audit-title">
      <div class="toolbar"><h1 id="audit-title">{tr('audit_log')}</h1></div>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">{t('time')}</th><th scope="col">{t('user')}</th><th scope="col">{tr('address')}</th>
              <th scope="col">{tr('action')}</th><th scope="col">{tr('target')}</th><th scope="col">{tr('result')}</th>
              <th scope="col">{t('events')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{clock(r.time_unix_ms)}</td><td>{r.user}</td><td>{r.address}</td><td>{r.action}</td>
                <td>{r.target}</td><td class="wrap">{r.result}</td>
                <td>{/^(operation|configuration)/.test(r.action) ? (
                  <button type="button" class="link" onClick={() => open(r.id)}>{tr('caused_events')}</button>
                ) : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {linked && (
        <div class="tab-panel" data-testid="audit-events">
          <h2>{tr('caused_events')} #{linked.id}</h2>
          {linked.data.error ? <p class="error">{linked.data.error}</p> : (
            <>
              <h3>{tr('caused')}</h3>
              {eventRows(linked.data.caused ?? [])}
              <h3>{tr('around')}</h3>
              {eventRows(linked.data.around ?? [])}
            </>
          )}
        </div>
      )}
    </section>
  );
}
