import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ApiError, type Session } from '../api';
import { lang, t, tr } from '../i18n';
import { live, watch, type LiveEvent } from '../live';
import { useSignal } from '../signal';
import { Age, EventList, RoleBadge, clock, pct, rate } from './common';

// The last 90 s (history rows: [unix ms, cpu %, mem %]) with time and percent axes (M6): CPU as
// bars, MEM as a line. uPlot draws on a canvas; the figure says the numbers in words.
const chartColours = { bars: '#1f5fbf', line: '#6b3fa0' };
function HistoryChart({ history, index, label, kind }: { history: any[]; index: number; label: string; kind: 'bars' | 'line' }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const pts = (history ?? []).filter((r) => typeof r[index] === 'number');
  const data: uPlot.AlignedData = [pts.map((r) => r[0] / 1000), pts.map((r) => r[index])];
  useEffect(() => {
    if (!box.current) return;
    const colour = chartColours[kind];
    const opts: uPlot.Options = {
      width: 300,
      height: 130,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (_u, _min, max) => [max - 90, max] },
        y: { range: [0, 100] },
      },
      axes: [
        // Seconds before the node's latest sample, which is what an operator compares.
        { stroke: '#4d5866', grid: { stroke: '#e3e7ed', width: 1 }, ticks: { stroke: '#d5dbe3', width: 1 }, size: 28,
          font: '11px system-ui, sans-serif',
          splits: (u) => { const max = u.scales.x.max ?? 0; return [max - 90, max - 60, max - 30, max]; },
          values: (u, v) => v.map((x) => `${Math.round(x - (u.scales.x.max ?? 0))} s`) },
        { stroke: '#4d5866', grid: { stroke: '#e3e7ed', width: 1 }, ticks: { stroke: '#d5dbe3', width: 1 }, size: 48,
          font: '11px system-ui, sans-serif', splits: () => [0, 25, 50, 75, 100], values: (_u, v) => v.map((x) => `${x}%`) },
      ],
      series: [
        {},
        kind === 'bars'
          ? { stroke: colour, fill: `${colour}cc`, width: 0, paths: uPlot.paths.bars!({ size: [0.7, 8] }), points: { show: false } }
          : { stroke: colour, fill: `${colour}22`, width: 2, points: { show: false } },
      ],
    };
    plot.current = new uPlot(opts, data, box.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [kind]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [history]);
  const values = pts.map((r) => r[index] as number);
  const latest = values.length ? Math.round(values[values.length - 1]) : null;
  const highest = values.length ? Math.round(Math.max(...values)) : null;
  const words = latest === null ? `${label}: –` : `${label}: ${latest}% (${t('chart_highest')} ${highest}%)`;
  return (
    <figure class="chart" data-chart={kind}>
      <figcaption>{words}</figcaption>
      <div ref={box} class="chart-plot" role="img" aria-label={words} />
    </figure>
  );
}

interface Preview {
  kind: string;
  node: string;
  accepted: boolean;
  text: string;
  active_now: string | null;
  active_after: string | null;
  running_now: any[];
  readiness: { node: string; ready: boolean; text: string; answered: boolean } | null;
}

function NodeColumn({ n, vips, group, events }: { n: any; vips: string[]; group: string; events: LiveEvent[] }) {
  const links = n.links ?? {};
  const drbd = (n.health?.findings ?? []).filter((f: any) => String(f.monitor).startsWith('drbd '));
  const processes = n.health?.processes ?? [];
  return (
    <article class={`node role-border-${n.role ?? 'unknown'}`} data-node={n.node} aria-label={n.node}>
      <h2>
        {n.node} <RoleBadge role={n.role} stale={n.stale} /> <Age unixMs={n.status_unix_ms} stale={n.stale} />
      </h2>
      <dl>
        <dt>{t('server_time')}</dt><dd>{clock(n.time_unix_ms)}</dd>
        <dt>{t('mode')}</dt><dd>{n.mode ?? '–'}</dd>
        <dt>{t('health')}</dt><dd>{n.healthy ? t('healthy') : t('unhealthy')}</dd>
        <dt>{t('virtual_ip')}</dt><dd>{vips.join(', ') || '–'}</dd>
        <dt>{t('heartbeat_link')}</dt><dd>{links.heartbeat?.configured ? (links.heartbeat.up ? t('up') : t('down')) : t('none')}</dd>
        <dt>{t('public_link')}</dt><dd>{links.public?.up ? t('up') : t('down')}</dd>
        <dt>{t('gateway')}</dt><dd>{n.gateway?.configured ? `${n.gateway.address} ${n.gateway.ok ? t('up') : t('down')}` : t('none')}</dd>
        <dt>{t('cpu')} / {t('mem')}</dt><dd>{pct(n.cpu_percent)} / {pct(n.memory_percent)}</dd>
        <dt>{t('traffic')}</dt>
        <dd>{(n.interfaces ?? []).filter((i: any) => i.name !== 'lo').map((i: any) => `${i.name} ↓${rate(i.rx_bytes_per_s)} ↑${rate(i.tx_bytes_per_s)}`).join(' · ') || '–'}</dd>
      </dl>
      <div class="charts">
        <HistoryChart history={n.history} index={1} label={t('cpu_chart')} kind="bars" />
        <HistoryChart history={n.history} index={2} label={t('mem_chart')} kind="line" />
      </div>
      <h3>{t('resources')}</h3>
      <ul class="resources">
        {(n.flow?.resources ?? []).map((r: any) => (
          <li key={r.name}>{r.name} ({r.kind}): {r.state}{r.error ? ` – ${r.error}` : ''}</li>
        ))}
      </ul>
      {processes.length > 0 && (
        <>
          <h3>{t('processes')}</h3>
          <ul class="resources">
            {processes.map((p: any) => (
              <li key={p.name}>{p.name}: {p.phase}, {p.running}{p.managed ? ' (managed)' : ''}</li>
            ))}
          </ul>
        </>
      )}
      {drbd.length > 0 && (
        <>
          <h3>DRBD</h3>
          <table class="drbd">
            <tbody>
              {drbd.map((f: any) => <tr key={f.monitor}><td>{f.monitor.slice(5)}</td><td>{f.evidence}</td></tr>)}
            </tbody>
          </table>
        </>
      )}
      <h3>{t('disks')}</h3>
      <ul class="resources">
        {(n.filesystems ?? []).slice(0, 6).map((f: any) => (
          <li key={f.mount_point}>{f.mount_point} {f.device} {f.used_percent}%</li>
        ))}
      </ul>
      <p><a href={`#/group/${encodeURIComponent(group)}/settings/${encodeURIComponent(n.node)}`}>{tr('settings_link')} ({n.node})</a></p>
      <h3>{t('events')}</h3>
      <EventList events={events} limit={5} />
      <h3>{t('facts')}</h3>
      <p class="muted">{[n.facts?.os, n.facts?.kernel, n.facts?.cpu_model, n.facts?.cpu_count && `${n.facts.cpu_count} CPU`,
        n.facts?.memory_bytes && `${Math.round(n.facts.memory_bytes / 2 ** 30)} GiB`].filter(Boolean).join(' · ')}</p>
    </article>
  );
}

// M6: both servers side by side, live, with the failover buttons behind the API's preview.
export function GroupPage({ name, session }: { name: string; session: Session }) {
  useSignal(lang);
  const state = useSignal(live);
  const [vips, setVips] = useState<Map<string, string[]>>(new Map());
  const [dialog, setDialog] = useState<{ kind: string; node: string; preview?: Preview; error?: string; typed: string; result?: string } | null>(null);

  useEffect(() => {
    watch([name]);
    api<any[]>('GET', '/api/v1/servers')
      .then((list) => setVips(new Map(list.filter((s) => s.group === name).map((s) => [s.node, s.virtual_ips]))))
      .catch(() => undefined);
    return () => watch([]);
  }, [name]);

  const g = state.groups.get(name);
  const events = state.events.filter((e) => e.group === name);
  const nodes: any[] = g?.nodes ?? [];
  const active = nodes.find((n) => n.role === 'active' && !n.stale);
  const standby = nodes.find((n) => n !== active);

  const open = async (kind: string, node: string) => {
    setDialog({ kind, node, typed: '' });
    try {
      const p = await api<Preview>('POST', `/api/v1/groups/${encodeURIComponent(name)}/operations?dry_run=1`, { kind, node });
      setDialog({ kind, node, preview: p, typed: '' });
    } catch (e) {
      setDialog({ kind, node, error: (e as Error).message, typed: '' });
    }
  };
  const run = async () => {
    if (!dialog) return;
    try {
      const r = await api<any>('POST', `/api/v1/groups/${encodeURIComponent(name)}/operations`, { kind: dialog.kind, node: dialog.node });
      setDialog({ ...dialog, result: `${r.accepted ? t('accepted') : t('refused')}: ${r.text}` });
    } catch (e) {
      setDialog({ ...dialog, result: e instanceof ApiError ? e.message : String(e) });
    }
  };
  const forced = dialog?.kind.startsWith('forced');

  return (
    <section aria-labelledby="group-title">
      <div class="toolbar">
        <a href="#/">← {t('back')}</a>
        <h1 id="group-title">{t('group_page')} {name}</h1>
      </div>
      {g?.roles_disagree && <div class="banner warn" role="alert">{t('roles_disagree')}</div>}
      {!session.read_only && (
        <div class="actions" role="group" aria-label={t('failover')}>
          <button type="button" disabled={!active} onClick={() => open('manual_failover', '')}>{t('manual_failover')}</button>
          {standby && <button type="button" onClick={() => open('partition_active', active?.node ?? nodes[0]?.node)}>{t('partition_active')}</button>}
          {standby && <button type="button" class="danger" onClick={() => open('forced_active', standby.node)}>{t('forced_active')} ({standby.node})</button>}
        </div>
      )}
      <div class="nodes">
        {nodes.map((n) => <NodeColumn key={n.node} n={n} group={name} vips={vips.get(n.node) ?? []} events={events.filter((e) => e.node === n.node)} />)}
      </div>
      <h2>{t('events')}</h2>
      <EventList events={events} limit={20} />
      {dialog && (
        <div class="modal" role="dialog" aria-modal="true" aria-labelledby="dialog-title">
          <div class="modal-box">
            <h2 id="dialog-title">{t('preview')}: {dialog.kind} {dialog.node}</h2>
            {dialog.error && <p class="error" role="alert">{dialog.error}</p>}
            {!dialog.preview && !dialog.error && <p>…</p>}
            {dialog.preview && (
              <dl class="preview" data-testid="preview">
                <dt>{t('active_now')}</dt><dd>{dialog.preview.active_now ?? '–'}</dd>
                <dt>{t('active_after')}</dt><dd>{dialog.preview.active_after ?? '–'}</dd>
                <dt>{t('running_now')}</dt><dd>{dialog.preview.running_now.map((r) => `${r.name} (${r.state})`).join(', ') || '–'}</dd>
                <dt>{t('readiness')}</dt>
                <dd>{dialog.preview.readiness ? `${dialog.preview.readiness.node}: ${dialog.preview.readiness.text}` : '–'}</dd>
                <dt>{dialog.preview.accepted ? t('accepted') : t('refused')}</dt><dd>{dialog.preview.text}</dd>
              </dl>
            )}
            {forced && dialog.preview && !dialog.result && (
              <label>
                {t('type_group')}
                <input value={dialog.typed} onInput={(e) => setDialog({ ...dialog, typed: (e.target as HTMLInputElement).value })} />
              </label>
            )}
            {dialog.result && <p class="result" role="status">{dialog.result}</p>}
            <div class="modal-actions">
              {!dialog.result && (
                <button type="button" class="primary"
                  disabled={!dialog.preview || !dialog.preview.accepted || (forced && dialog.typed !== name)}
                  onClick={run}>{t('confirm')}</button>
              )}
              <button type="button" onClick={() => setDialog(null)}>{dialog.result ? 'OK' : t('cancel')}</button>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
