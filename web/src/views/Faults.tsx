import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { lang, tr } from '../i18n';
import { useSignal } from '../signal';

// E4 fault management (administrators): which events the manager keeps and which it forwards to
// integrators, per server and event code ("*" for any); replaced whole or refused whole.
export function FaultsPage() {
  useSignal(lang);
  const [rules, setRules] = useState<any[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    api<any>('GET', '/api/v1/fault-rules').then((r) => setRules(r.rules)).catch((e) => setMessage({ ok: false, text: (e as Error).message }));
  }, []);
  const set = (i: number, k: string, v: any) => setRules(rules.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  const save = async () => {
    try {
      const r = await api<any>('PUT', '/api/v1/fault-rules', { rules });
      setRules(r.rules);
      setMessage({ ok: true, text: tr('saved') });
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    }
  };
  return (
    <section aria-labelledby="faults-title">
      <div class="toolbar"><h1 id="faults-title">{tr('fault_management')}</h1></div>
      <p class="muted">{tr('faults_note')}</p>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">{tr('rule_server')}</th><th scope="col">{tr('rule_code')}</th><th scope="col">{tr('rule_store')}</th><th scope="col">{tr('rule_forward')}</th><th scope="col" /></tr></thead>
          <tbody>
            {rules.map((r, i) => (
              <tr key={i}>
                <td><input aria-label={`${tr('rule_server')} ${i + 1}`} value={r.server} onInput={(e) => set(i, 'server', (e.target as HTMLInputElement).value)} /></td>
                <td><input aria-label={`${tr('rule_code')} ${i + 1}`} value={r.code} onInput={(e) => set(i, 'code', (e.target as HTMLInputElement).value)} /></td>
                <td><input type="checkbox" aria-label={`${tr('rule_store')} ${i + 1}`} checked={r.store} onChange={(e) => set(i, 'store', (e.target as HTMLInputElement).checked)} /></td>
                <td><input type="checkbox" aria-label={`${tr('rule_forward')} ${i + 1}`} checked={r.forward} onChange={(e) => set(i, 'forward', (e.target as HTMLInputElement).checked)} /></td>
                <td><button type="button" class="danger" onClick={() => setRules(rules.filter((_, j) => j !== i))}>{tr('remove')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="actions">
        <button type="button" onClick={() => setRules([...rules, { server: '*', code: '*', store: true, forward: false }])}>{tr('add')}</button>
        <span class="spacer" />
        <button type="button" class="primary" onClick={save}>{tr('save_rules')}</button>
      </div>
      {message && <p class={message.ok ? 'outcome good' : 'outcome bad'} role="status">{message.text}</p>}
    </section>
  );
}
