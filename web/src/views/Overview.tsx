import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { lang, t, tr } from '../i18n';
import { live, watch, type NodeRow } from '../live';
import { useSignal } from '../signal';
import { Age, EventList, RoleBadge, pct, rate } from './common';

interface Server {
  group: string;
  node: string;
  public_address: string;
  virtual_ips: string[];
}

// How an HA group is doing, for the NOC wall's tiles: bad (nobody serves, or two claim it),
// warn (served, but a server is silent, unhealthy, alone or lost a heartbeat link), ok.
export function groupLevel(rs: NodeRow[]): { level: 'ok' | 'warn' | 'bad'; active: string | null; why: string } {
  const heard = rs.filter((r) => !r.stale);
  const actives = heard.filter((r) => r.role === 'active');
  const active = actives.length === 1 ? actives[0].node : null;
  if (actives.length > 1) return { level: 'bad', active, why: tr('wall_both_active') };
  if (actives.length === 0) return { level: 'bad', active, why: tr('wall_no_active') };
  if (heard.length < rs.length) return { level: 'warn', active, why: tr('wall_silent') };
  if (rs.length < 2) return { level: 'warn', active, why: tr('wall_alone') };
  if (rs.some((r) => !r.healthy)) return { level: 'warn', active, why: tr('wall_unhealthy') };
  if (rs.some((r) => !r.heartbeat_up)) return { level: 'warn', active, why: tr('wall_link_down') };
  return { level: 'ok', active, why: tr('wall_ok') };
}

// The NOC wall (a read-only user): one tile per HA group, the worst first, readable from afar.
function WallTiles({ byGroup }: { byGroup: Map<string, NodeRow[]> }) {
  const order = { bad: 0, warn: 1, ok: 2 };
  const tiles = [...byGroup].map(([g, rs]) => ({ g, ...groupLevel(rs) }))
    .sort((a, b) => order[a.level] - order[b.level] || a.g.localeCompare(b.g));
  return (
    <section aria-label={tr('wall_summary')}>
      <ul class="tiles">
        {tiles.map((x) => (
          <li key={x.g} class={`tile tile-${x.level}`} data-group={x.g} data-level={x.level}>
            <a href={`#/group/${encodeURIComponent(x.g)}`}>{x.g}</a>
            <span class="tile-active">{x.active ? <><RoleBadge role="active" /> {x.active}</> : '–'}</span>
            <span class="tile-why">{x.why}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

// M5: every visible group and server, live; the event window of E2 below it. On the NOC wall
// (a read-only user) the groups' tiles come first, and the page can go full screen.
export function Overview({ wall = false }: { wall?: boolean }) {
  useSignal(lang);
  const state = useSignal(live);
  const [servers, setServers] = useState<Map<string, Server>>(new Map());
  const [business, setBusiness] = useState<Map<string, string[]>>(new Map());
  const [selected, setSelected] = useState<Set<string>>(new Set());

  const refresh = async () => {
    const [list, groups] = await Promise.all([
      api<Server[]>('GET', '/api/v1/servers').catch(() => [] as Server[]),
      api<any[]>('GET', '/api/v1/groups').catch(() => [] as any[]),
    ]);
    setServers(new Map(list.map((s) => [`${s.group}/${s.node}`, s])));
    setBusiness(new Map(groups.map((g) => [g.name as string, g.business_groups as string[]])));
  };
  useEffect(() => {
    refresh();
    watch([]);
  }, []);

  const rows = [...state.rows.values()].sort((a, b) =>
    a.group === b.group ? a.node.localeCompare(b.node) : a.group.localeCompare(b.group),
  );
  const disagree = new Set<string>();
  const byGroup = new Map<string, NodeRow[]>();
  for (const r of rows) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  for (const [g, rs] of byGroup) {
    const live = rs.filter((r) => !r.stale);
    if (live.filter((r) => r.role === 'active').length > 1) disagree.add(g);
  }

  const download = () => {
    const head = [t('business_group'), t('ha_group'), t('server'), t('ip'), t('alias_ip'), t('role'),
      t('cpu'), t('mem'), t('processes'), t('hb_net'), 'rx B/s', 'tx B/s'];
    const lines = [head, ...rows.map((r) => {
      const s = servers.get(`${r.group}/${r.node}`);
      return [(business.get(r.group) ?? []).join(' '), r.group, r.node, s?.public_address ?? '',
        (s?.virtual_ips ?? []).join(' '), r.role ?? '', r.cpu_percent ?? '', r.memory_percent ?? '',
        r.processes_total ?? '', r.heartbeat_up ? 'up' : 'down', Math.round(r.rx_bytes_per_s ?? 0),
        Math.round(r.tx_bytes_per_s ?? 0)];
    })];
    const csv = '\ufeff' + lines.map((l) => l.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(',')).join('\r\n');
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    a.download = 'hasys-overview.csv';
    a.click();
    URL.revokeObjectURL(a.href);
  };

  const toggle = (key: string) => {
    const s = new Set(selected);
    if (s.has(key)) s.delete(key);
    else s.add(key);
    setSelected(s);
  };

  return (
    <section aria-labelledby="overview-title">
      <div class="toolbar">
        <h1 id="overview-title">{t('overview')}</h1>
        <span class="spacer" />
        {wall ? (
          <button type="button" onClick={() => document.documentElement.requestFullscreen?.().catch(() => undefined)}>
            {tr('full_screen')}
          </button>
        ) : (
          <>
            <button type="button" onClick={refresh}>{t('refresh')}</button>
            <button type="button" onClick={download}>{t('download')}</button>
            <button type="button" disabled={selected.size === 0}
              onClick={() => { location.hash = '#/multi/' + [...new Set([...selected].map((k) => k.split('/')[0]))].slice(0, 4).map(encodeURIComponent).join(','); }}>
              {tr('open_multi')}
            </button>
          </>
        )}
      </div>
      {wall && <WallTiles byGroup={byGroup} />}
      {[...disagree].map((g) => (
        <div class="banner warn" role="alert" key={g}>{t('roles_disagree')}: {g}</div>
      ))}
      <div class="table-wrap">
        <table class="overview" data-testid="overview">
          <thead>
            <tr>
              {!wall && <th scope="col"><span class="sr-only">select</span></th>}
              <th scope="col">{t('business_group')}</th>
              <th scope="col">{t('ha_group')}</th>
              <th scope="col">{t('server')}</th>
              <th scope="col">{t('ip')}</th>
              <th scope="col">{t('alias_ip')}</th>
              <th scope="col">{t('role')}</th>
              <th scope="col">{t('cpu')}</th>
              <th scope="col">{t('mem')}</th>
              <th scope="col">{t('processes')}</th>
              <th scope="col">{t('hb_net')}</th>
              <th scope="col">{t('traffic')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const key = `${r.group}/${r.node}`;
              const s = servers.get(key);
              return (
                <tr key={key} data-node={r.node} data-group={r.group} class={r.stale ? 'is-stale' : ''}>
                  {!wall && (
                    <td>
                      <input type="checkbox" aria-label={`${r.group} ${r.node}`} checked={selected.has(key)}
                        onChange={() => toggle(key)} />
                    </td>
                  )}
                  <td>{(business.get(r.group) ?? []).join(', ')}</td>
                  <td><a href={`#/group/${encodeURIComponent(r.group)}`}>{r.group}</a></td>
                  <td>{r.node} <Age unixMs={r.status_unix_ms} stale={r.stale} /></td>
                  <td>{s?.public_address ?? '–'}</td>
                  <td>{(s?.virtual_ips ?? []).join(', ') || '–'}</td>
                  <td><RoleBadge role={r.role} stale={r.stale} /></td>
                  <td>{pct(r.cpu_percent)}</td>
                  <td>{pct(r.memory_percent)}</td>
                  <td>{r.processes_total ?? '–'}</td>
                  <td>{r.heartbeat_up ? t('up') : t('down')}</td>
                  <td>↓ {rate(r.rx_bytes_per_s)} ↑ {rate(r.tx_bytes_per_s)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>{t('events')}</h2>
      <EventList events={state.events} limit={10} />
    </section>
  );
}
