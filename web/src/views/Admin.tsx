import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { lang, t, tr } from '../i18n';
import { useSignal } from '../signal';
import { clock } from './common';

// Manager settings for administrators (M2–M4): users, business groups and their mappings, servers.
export function AdminPage() {
  useSignal(lang);
  const [users, setUsers] = useState<any[]>([]);
  const [groups, setGroups] = useState<any[]>([]);
  const [servers, setServers] = useState<any[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [nu, setNu] = useState({ name: '', password: '', admin: false, read_only: false });
  const [nbg, setNbg] = useState('');
  const [ns, setNs] = useState({ group: '', node: '', public_address: '', note: '' });
  const [maps, setMaps] = useState<Record<string, { ha_groups: string; users: string }>>({});
  const [editing, setEditing] = useState<{ group: string; node: string; public_address: string; note: string } | null>(null);

  const load = async () => {
    const [u, g, s] = await Promise.all([
      api<any[]>('GET', '/api/v1/users'),
      api<any[]>('GET', '/api/v1/business-groups'),
      api<any[]>('GET', '/api/v1/servers'),
    ]);
    setUsers(u);
    setGroups(g);
    setServers(s);
    setMaps(Object.fromEntries(g.map((x) => [x.name, { ha_groups: x.ha_groups.join(', '), users: x.users.join(', ') }])));
  };
  useEffect(() => {
    load().catch((e) => setMessage({ ok: false, text: (e as Error).message }));
  }, []);
  const act = async (f: () => Promise<unknown>, done: string) => {
    try {
      await f();
      setMessage({ ok: true, text: done });
      await load();
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    }
  };
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const enc = encodeURIComponent;

  return (
    <section aria-labelledby="admin-title">
      <div class="toolbar"><h1 id="admin-title">{tr('manager_settings')}</h1></div>
      {message && <p class={message.ok ? 'outcome good' : 'outcome bad'} role="status">{message.text}</p>}

      <h2>{tr('users')}</h2>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">{t('user')}</th><th scope="col">admin</th><th scope="col">{t('read_only_user')}</th><th scope="col">{tr('created')}</th><th scope="col" /></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.name}>
                <td>{u.name}{u.must_change_password ? ' *' : ''}</td>
                <td><input type="checkbox" aria-label={`${u.name} admin`} checked={u.admin}
                  onChange={(e) => act(() => api('PUT', `/api/v1/users/${enc(u.name)}`, { admin: (e.target as HTMLInputElement).checked }), tr('saved'))} /></td>
                <td><input type="checkbox" aria-label={`${u.name} ${t('read_only_user')}`} checked={u.read_only}
                  onChange={(e) => act(() => api('PUT', `/api/v1/users/${enc(u.name)}`, { read_only: (e.target as HTMLInputElement).checked }), tr('saved'))} /></td>
                <td>{clock(u.created_unix_ms)}</td>
                <td>{u.name !== 'hasys' && <button type="button" class="danger" onClick={() => act(() => api('DELETE', `/api/v1/users/${enc(u.name)}`), tr('deleted'))}>{tr('remove')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); act(() => api('POST', '/api/v1/users', nu), tr('added')); }}>
        <label class="field"><span>{t('user')}</span><input value={nu.name} onInput={(e) => setNu({ ...nu, name: (e.target as HTMLInputElement).value })} required /></label>
        <label class="field"><span>{t('password')}</span><input type="password" autocomplete="new-password" value={nu.password} onInput={(e) => setNu({ ...nu, password: (e.target as HTMLInputElement).value })} required /></label>
        <label class="inline"><input type="checkbox" checked={nu.admin} onChange={(e) => setNu({ ...nu, admin: (e.target as HTMLInputElement).checked })} /> admin</label>
        <label class="inline"><input type="checkbox" checked={nu.read_only} onChange={(e) => setNu({ ...nu, read_only: (e.target as HTMLInputElement).checked })} /> {t('read_only_user')}</label>
        <button type="submit">{tr('add_user')}</button>
      </form>

      <h2>{tr('business_groups')}</h2>
      {groups.map((g) => (
        <form class="inline-form" key={g.name} onSubmit={(e) => { e.preventDefault(); act(() => api('PUT', `/api/v1/business-groups/${enc(g.name)}`, { ha_groups: list(maps[g.name]?.ha_groups ?? ''), users: list(maps[g.name]?.users ?? '') }), tr('saved')); }}>
          <strong>{g.name}</strong>
          <label class="field"><span>{t('ha_group')}</span><input value={maps[g.name]?.ha_groups ?? ''} onInput={(e) => setMaps({ ...maps, [g.name]: { ...maps[g.name], ha_groups: (e.target as HTMLInputElement).value } })} /></label>
          <label class="field"><span>{tr('users')}</span><input value={maps[g.name]?.users ?? ''} onInput={(e) => setMaps({ ...maps, [g.name]: { ...maps[g.name], users: (e.target as HTMLInputElement).value } })} /></label>
          <button type="submit">{t('save')}</button>
          <button type="button" class="danger" onClick={() => act(() => api('DELETE', `/api/v1/business-groups/${enc(g.name)}`), tr('deleted'))}>{tr('remove')}</button>
        </form>
      ))}
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); act(() => api('POST', '/api/v1/business-groups', { name: nbg }), tr('added')); }}>
        <label class="field"><span>{tr('business_groups')}</span><input value={nbg} onInput={(e) => setNbg((e.target as HTMLInputElement).value)} required /></label>
        <button type="submit">{tr('add')}</button>
      </form>

      <h2>{tr('servers')}</h2>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">{t('ha_group')}</th><th scope="col">{t('server')}</th><th scope="col">{t('ip')}</th><th scope="col">{t('alias_ip')}</th><th scope="col">{t('version')}</th><th scope="col">{tr('registered')}</th><th scope="col">{tr('note')}</th><th scope="col" /></tr></thead>
          <tbody>
            {servers.map((s) => {
              const mine = editing && editing.group === s.group && editing.node === s.node ? editing : null;
              const path = `/api/v1/servers/${enc(s.group)}/${enc(s.node)}`;
              return (
                <tr key={`${s.group}/${s.node}`} data-server={`${s.group}/${s.node}`}>
                  <td>{s.group}</td><td>{s.node}</td>
                  <td>{mine ? <input aria-label={`${t('ip')} ${s.node}`} value={mine.public_address} required
                    onInput={(e) => setEditing({ ...mine, public_address: (e.target as HTMLInputElement).value })} /> : s.public_address}</td>
                  <td>{s.virtual_ips.join(', ')}</td>
                  <td>{s.version || '–'}</td><td>{s.manual ? tr('by_hand') : clock(s.registered_unix_ms)}</td>
                  <td>{mine ? <input aria-label={`${tr('note')} ${s.node}`} value={mine.note} maxLength={200}
                    onInput={(e) => setEditing({ ...mine, note: (e.target as HTMLInputElement).value })} /> : s.note}</td>
                  <td class="row-actions">
                    {mine ? (
                      <>
                        <button type="button" onClick={() => act(async () => {
                          await api('PUT', path, { public_address: mine.public_address, note: mine.note });
                          setEditing(null);
                        }, tr('saved'))}>{t('save')}</button>
                        <button type="button" onClick={() => setEditing(null)}>{t('cancel')}</button>
                      </>
                    ) : (
                      <>
                        <button type="button" onClick={() => setEditing({ group: s.group, node: s.node, public_address: s.public_address, note: s.note })}>{tr('edit')}</button>
                        <button type="button" class="danger" onClick={() => act(() => api('DELETE', path), tr('deleted'))}>{tr('remove')}</button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); act(() => api('POST', '/api/v1/servers', ns), tr('added')); }}>
        <label class="field"><span>{t('ha_group')}</span><input value={ns.group} onInput={(e) => setNs({ ...ns, group: (e.target as HTMLInputElement).value })} required /></label>
        <label class="field"><span>{t('server')}</span><input value={ns.node} onInput={(e) => setNs({ ...ns, node: (e.target as HTMLInputElement).value })} required /></label>
        <label class="field"><span>{t('ip')}</span><input value={ns.public_address} onInput={(e) => setNs({ ...ns, public_address: (e.target as HTMLInputElement).value })} required /></label>
        <label class="field"><span>{tr('note')}</span><input value={ns.note} onInput={(e) => setNs({ ...ns, note: (e.target as HTMLInputElement).value })} /></label>
        <button type="submit">{tr('add_server')}</button>
      </form>
    </section>
  );
}
