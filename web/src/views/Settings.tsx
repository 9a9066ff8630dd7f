import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Session } from '../api';
import { lang, t, tr } from '../i18n';
import { useSignal } from '../signal';

// M8 agent settings and the M9 flow editor over the remote configuration API: each tab edits a
// copy, "check" asks both servers (dry run), "save" writes — on the peer too when asked.
type Field = { key: string; kind: 'text' | 'number' | 'bool' | 'select'; options?: string[]; hint?: string };

const failoverFields: Field[] = [
  { key: 'mode', kind: 'select', options: ['auto', 'manual'] },
  { key: 'active_priority', kind: 'bool' },
  { key: 'polling_period', kind: 'text', hint: '"1s", "100ms" (0 < x < 100 s)' },
  { key: 'polling_count', kind: 'number', hint: '1..99' },
  { key: 'start_window', kind: 'text', hint: '"5s" (0..600 s)' },
];

const rowFields: Record<string, Field[]> = {
  process: [
    { key: 'name', kind: 'text', hint: '1..10 bytes' },
    { key: 'match', kind: 'select', options: ['name', 'cmdline'] },
    { key: 'pattern', kind: 'text', hint: '1..80 bytes' },
    { key: 'managed', kind: 'bool' },
    { key: 'on', kind: 'select', options: ['active', 'both'] },
    { key: 'recovery', kind: 'bool' },
    { key: 'start', kind: 'text', hint: '≤ 256 bytes' },
    { key: 'start_time', kind: 'text', hint: '1..3600 s' },
    { key: 'retries', kind: 'number', hint: '1..99' },
    { key: 'reboot_after_failover', kind: 'bool' },
  ],
  load: [
    { key: 'resource', kind: 'select', options: ['cpu', 'memory'] },
    { key: 'limit', kind: 'number', hint: '1..100 %' },
    { key: 'repeat', kind: 'number', hint: '1..99' },
    { key: 'start_delay', kind: 'text', hint: '1..3600 s' },
    { key: 'managed', kind: 'bool' },
  ],
  network: [
    { key: 'name', kind: 'text', hint: '1..10 bytes' },
    { key: 'interface', kind: 'text' },
    { key: 'ip', kind: 'text' },
    { key: 'managed', kind: 'bool' },
  ],
  disk: [
    { key: 'name', kind: 'text', hint: '1..10 bytes' },
    { key: 'mount_point', kind: 'text', hint: '≤ 128 bytes' },
    { key: 'managed', kind: 'bool' },
    { key: 'unmount_confirm', kind: 'bool' },
  ],
};

const flowFields: Record<string, Field[]> = {
  common: [
    { key: 'name', kind: 'text', hint: '1..10 bytes' },
    { key: 'stop_on_error', kind: 'bool' },
    { key: 'timeout', kind: 'text', hint: '1..3600 s' },
  ],
  vip: [
    { key: 'ip', kind: 'text' },
    { key: 'prefix', kind: 'number', hint: '1..32 / 1..128' },
    { key: 'interface', kind: 'text' },
    { key: 'interface_override', kind: 'text', hint: 'node-a=eth0,node-b=ens192' },
    { key: 'lease', kind: 'text', hint: '0..3600 s' },
  ],
  application: [
    { key: 'start', kind: 'text', hint: '≤ 128 bytes' },
    { key: 'stop', kind: 'text', hint: '≤ 128 bytes' },
    { key: 'user', kind: 'text' },
  ],
  wait: [{ key: 'seconds', kind: 'number', hint: '1..3600' }],
  shared_disk: [
    { key: 'device', kind: 'text' },
    { key: 'mount_point', kind: 'text' },
    { key: 'fs_type', kind: 'text' },
  ],
  drbd: [
    { key: 'resource', kind: 'text' },
    { key: 'minor', kind: 'number' },
    { key: 'mount_point', kind: 'text' },
  ],
};
flowFields.database = flowFields.application;

const tabs = ['failover', 'shared_disk', 'single_process', 'multi_process', 'network', 'cpu_mem', 'daemons', 'flow'] as const;
type Tab = (typeof tabs)[number];

function Input({ f, value, onChange, id, invalid }: { f: Field; value: any; onChange: (v: any) => void; id: string; invalid: boolean }) {
  const common = { id, 'aria-invalid': invalid ? 'true' : undefined } as any;
  if (f.kind === 'bool')
    return <input type="checkbox" {...common} checked={!!value} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />;
  if (f.kind === 'select')
    return (
      <select {...common} value={value ?? ''} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {f.options!.map((o) => <option value={o}>{o}</option>)}
      </select>
    );
  return (
    <input {...common} type={f.kind === 'number' ? 'number' : 'text'} value={value ?? ''}
      onInput={(e) => {
        const v = (e.target as HTMLInputElement).value;
        onChange(f.kind === 'number' ? (v === '' ? null : Number(v)) : v);
      }} />
  );
}

function Row({ fields, row, path, errors, onChange }: { fields: Field[]; row: any; path: string; errors: Set<string>; onChange: (r: any) => void }) {
  return (
    <div class="row-fields">
      {fields.map((f) => {
        const id = `${path}.${f.key}`;
        return (
          <label class={errors.has(id) ? 'field invalid' : 'field'} key={f.key}>
            <span>{f.key}{f.hint ? <small> {f.hint}</small> : null}</span>
            <Input f={f} id={id} value={row[f.key]} invalid={errors.has(id)} onChange={(v) => onChange({ ...row, [f.key]: v })} />
          </label>
        );
      })}
    </div>
  );
}

function List({ rows, path, fieldsOf, errors, onChange, make }: {
  rows: any[]; path: string; fieldsOf: (r: any) => Field[]; errors: Set<string>; onChange: (rows: any[]) => void; make: () => any;
}) {
  const set = (i: number, r: any) => onChange(rows.map((x, j) => (j === i ? r : x)));
  const move = (i: number, d: number) => {
    const j = i + d;
    if (j < 0 || j >= rows.length) return;
    const c = [...rows];
    [c[i], c[j]] = [c[j], c[i]];
    onChange(c);
  };
  return (
    <div class="list">
      {rows.map((r, i) => (
        <fieldset key={i}>
          <legend>#{i + 1} {r.type ?? r.name ?? r.resource ?? ''}</legend>
          <Row fields={fieldsOf(r)} row={r} path={`${path}[${i}]`} errors={errors} onChange={(x) => set(i, x)} />
          <div class="row-actions">
            <button type="button" onClick={() => move(i, -1)} aria-label={`${tr('up_row')} ${i + 1}`}>↑</button>
            <button type="button" onClick={() => move(i, 1)} aria-label={`${tr('down_row')} ${i + 1}`}>↓</button>
            <button type="button" class="danger" onClick={() => onChange(rows.filter((_, j) => j !== i))}>{tr('remove')}</button>
          </div>
        </fieldset>
      ))}
      <button type="button" onClick={() => onChange([...rows, make()])}>{tr('add')}</button>
    </div>
  );
}

export function SettingsPage({ group, node, session }: { group: string; node: string; session: Session }) {
  useSignal(lang);
  const [data, setData] = useState<any>(null);
  const [edit, setEdit] = useState<any>(null);
  const [tab, setTab] = useState<Tab>('failover');
  const [toPeer, setToPeer] = useState(true);
  const [outcome, setOutcome] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const [newFlowType, setNewFlowType] = useState('vip');

  const load = async () => {
    try {
      const d = await api<any>('GET', `/api/v1/groups/${encodeURIComponent(group)}/nodes/${encodeURIComponent(node)}/config`);
      setData(d);
      setEdit(structuredClone(d.settings));
      setOutcome(null);
    } catch (e) {
      setOutcome({ error: (e as Error).message, nodes: [] });
    }
  };
  useEffect(() => {
    load();
  }, [group, node]);

  if (!edit) return <section><p>{outcome?.error ?? '…'}</p></section>;
  const monitor = edit.monitor ?? {};
  const setMonitor = (m: any) => setEdit({ ...edit, monitor: m });
  const errors = new Set<string>((outcome?.nodes ?? []).flatMap((n: any) => (n.errors ?? []).map((e: any) => e.field)));

  const changesOf = (): any => {
    switch (tab) {
      case 'failover':
        return Object.fromEntries(failoverFields.map((f) => [f.key, edit[f.key]]));
      case 'shared_disk':
        return { shared_disk_wait: edit.shared_disk_wait, monitor };
      case 'flow':
        return { flow: edit.flow };
      case 'daemons':
        return null;
      default:
        return { monitor };
    }
  };
  const send = async (dry: boolean) => {
    const changes = changesOf();
    if (!changes) return;
    setBusy(true);
    try {
      const r = await api<any>('PATCH', `/api/v1/groups/${encodeURIComponent(group)}/nodes/${encodeURIComponent(node)}/config${dry ? '?dry_run=1' : ''}`,
        { changes, apply_to_peer: toPeer && !!data.peer, expected_version: data.version });
      setOutcome({ ...r, saved: !dry });
      if (!dry) {
        const d = await api<any>('GET', `/api/v1/groups/${encodeURIComponent(group)}/nodes/${encodeURIComponent(node)}/config`);
        setData(d);
      }
    } catch (e) {
      setOutcome(e instanceof ApiError && e.body?.nodes ? e.body : { error: (e as Error).message, nodes: [] });
    } finally {
      setBusy(false);
    }
  };

  const processes: any[] = monitor.process ?? [];
  const single = processes.filter((p) => !p.multi);
  const multi = processes.filter((p) => p.multi);
  const setProcesses = (isMulti: boolean, rows: any[]) =>
    setMonitor({ ...monitor, process: isMulti ? [...single, ...rows.map((r) => ({ ...r, multi: true }))] : [...rows.map((r) => ({ ...r, multi: false })), ...multi] });
  const policy = (key: string) => (
    <label class="field">
      <span>{key}</span>
      <select value={monitor[key] ?? 'one'} onChange={(e) => setMonitor({ ...monitor, [key]: (e.target as HTMLSelectElement).value })}>
        <option value="all">{tr('policy_all')}</option>
        <option value="one">{tr('policy_one')}</option>
      </select>
    </label>
  );
  const fixed = data.fixed ?? {};

  return (
    <section aria-labelledby="settings-title">
      <div class="toolbar">
        <a href={`#/group/${encodeURIComponent(group)}`}>← {t('group_page')} {group}</a>
        <h1 id="settings-title">{tr('agent_settings')}: {node}</h1>
        <span class="muted">{tr('version')} {data.version}</span>
      </div>
      <div role="tablist" class="tabs">
        {tabs.map((k) => (
          <button type="button" role="tab" aria-selected={tab === k} key={k} onClick={() => { setTab(k); setOutcome(null); }}>{tr(`tab_${k}` as any)}</button>
        ))}
      </div>
      <div class="tab-panel" role="tabpanel">
        {tab === 'failover' && (
          <>
            <dl class="fixed">
              <dt>{t('ha_group')}</dt><dd>{fixed.name}</dd>
              <dt>{t('server')}</dt><dd>{fixed.node}</dd>
              <dt>{tr('public_interface')}</dt><dd>{fixed.public_interface}</dd>
              <dt>{t('gateway')}</dt><dd>{fixed.gateway ?? '–'}</dd>
              <dt>{t('alias_ip')}</dt><dd>{(fixed.virtual_ips ?? []).join(', ') || '–'}</dd>
            </dl>
            <Row fields={failoverFields} row={edit} path="" errors={new Set([...errors].map((e) => '.' + e))} onChange={(r) => setEdit(r)} />
          </>
        )}
        {tab === 'shared_disk' && (
          <>
            <Row fields={[{ key: 'shared_disk_wait', kind: 'text', hint: '1..3600 s' }]} row={edit} path="" errors={new Set([...errors].map((e) => '.' + e))} onChange={(r) => setEdit(r)} />
            <List rows={monitor.disk ?? []} path="monitor.disk" fieldsOf={() => rowFields.disk} errors={errors}
              onChange={(rows) => setMonitor({ ...monitor, disk: rows })} make={() => ({ name: '', mount_point: '', managed: false, unmount_confirm: true })} />
          </>
        )}
        {tab === 'single_process' && (
          <>
            {policy('process_policy')}
            <List rows={single} path="monitor.process" fieldsOf={() => rowFields.process} errors={errors}
              onChange={(rows) => setProcesses(false, rows)} make={() => ({ name: '', match: 'name', pattern: '', managed: false, on: 'active', recovery: false })} />
          </>
        )}
        {tab === 'multi_process' && (
          <>
            {policy('process_policy')}
            <List rows={multi} path="monitor.process" fieldsOf={() => [...rowFields.process.slice(0, 3), { key: 'min', kind: 'number', hint: '0..9999' }, { key: 'max', kind: 'number', hint: '1..9999' }, ...rowFields.process.slice(3)]} errors={errors}
              onChange={(rows) => setProcesses(true, rows)} make={() => ({ name: '', match: 'cmdline', pattern: '', min: 1, max: 1, managed: false, on: 'active', recovery: false })} />
          </>
        )}
        {tab === 'network' && (
          <>
            {policy('network_policy')}
            <List rows={monitor.network ?? []} path="monitor.network" fieldsOf={() => rowFields.network} errors={errors}
              onChange={(rows) => setMonitor({ ...monitor, network: rows })} make={() => ({ name: '', interface: '', managed: false })} />
          </>
        )}
        {tab === 'cpu_mem' && (
          <List rows={monitor.load ?? []} path="monitor.load" fieldsOf={() => rowFields.load} errors={errors}
            onChange={(rows) => setMonitor({ ...monitor, load: rows })} make={() => ({ resource: 'cpu', limit: 90, repeat: 3, start_delay: '60s', managed: false })} />
        )}
        {tab === 'daemons' && <p class="note">{tr('daemons_note')}</p>}
        {tab === 'flow' && (
          <>
            <List rows={edit.flow ?? []} path="flow" fieldsOf={(r) => [...flowFields.common, ...(flowFields[r.type] ?? [])]} errors={errors}
              onChange={(rows) => setEdit({ ...edit, flow: rows })} make={() => ({ type: newFlowType, name: '', stop_on_error: true, timeout: '30s' })} />
            <label class="field">
              <span>{tr('new_node_type')}</span>
              <select value={newFlowType} onChange={(e) => setNewFlowType((e.target as HTMLSelectElement).value)}>
                {['vip', 'application', 'database', 'wait', 'shared_disk', 'drbd'].map((k) => <option value={k}>{k}</option>)}
              </select>
            </label>
          </>
        )}
      </div>
      {tab !== 'daemons' && !session.read_only && (
        <div class="actions">
          <label class="inline">
            <input type="checkbox" checked={toPeer} disabled={!data.peer} onChange={(e) => setToPeer((e.target as HTMLInputElement).checked)} />
            {tr('apply_to_peer')} {data.peer ? `(${data.peer})` : ''}
          </label>
          <span class="spacer" />
          <button type="button" disabled={busy} onClick={() => send(true)}>{tr('check')}</button>
          <button type="button" class="primary" disabled={busy} onClick={() => send(false)}>{t('save')}</button>
        </div>
      )}
      {outcome && (
        <div class={outcome.error ? 'outcome bad' : 'outcome good'} role="status" data-testid="settings-outcome">
          <p>{outcome.error ?? (outcome.dry_run ? tr('checked_ok') : tr('saved'))}</p>
          {(outcome.nodes ?? []).map((n: any) => (
            <div key={n.node}>
              <strong>{n.node}</strong>: {n.text}
              <ul>
                {(n.errors ?? []).map((e: any) => <li key={e.field}><code>{e.field}</code>: {e.message}</li>)}
                {(n.daemons ?? []).map((d: any) => <li key={d.daemon}>{d.daemon}: {d.status}{d.text ? ` – ${d.text}` : ''}</li>)}
              </ul>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
