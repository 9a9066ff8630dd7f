import { useEffect, useState } from 'preact/hooks';
import { lang, t, tr } from '../i18n';
import { live, watch } from '../live';
import { useSignal } from '../signal';
import { Age, RoleBadge, pct } from './common';

// M7: up to 4 groups at once, side by side or stacked, live.
export function MultiPage({ names }: { names: string[] }) {
  useSignal(lang);
  const state = useSignal(live);
  const [layout, setLayout] = useState<'horizontal' | 'vertical'>('horizontal');
  const shown = names.slice(0, 4);
  useEffect(() => {
    watch(shown);
    return () => watch([]);
  }, [shown.join(',')]);
  return (
    <section aria-labelledby="multi-title">
      <div class="toolbar">
        <h1 id="multi-title">{tr('multi_view')}</h1>
        <span class="spacer" />
        <button type="button" aria-pressed={layout === 'horizontal'} onClick={() => setLayout('horizontal')}>{tr('horizontal')}</button>
        <button type="button" aria-pressed={layout === 'vertical'} onClick={() => setLayout('vertical')}>{tr('vertical')}</button>
      </div>
      <div class={`multi multi-${layout}`}>
        {shown.map((name) => {
          const g = state.groups.get(name);
          return (
            <article class="multi-group" key={name} aria-label={name}>
              <h2><a href={`#/group/${encodeURIComponent(name)}`}>{name}</a></h2>
              {g?.roles_disagree && <div class="banner warn" role="alert">{t('roles_disagree')}</div>}
              <table>
                <tbody>
                  {(g?.nodes ?? []).map((n: any) => (
                    <tr key={n.node} data-node={n.node}>
                      <td>{n.node}</td>
                      <td><RoleBadge role={n.role} stale={n.stale} /> <Age unixMs={n.status_unix_ms} stale={n.stale} /></td>
                      <td>{t('cpu')} {pct(n.cpu_percent)}</td>
                      <td>{t('mem')} {pct(n.memory_percent)}</td>
                      <td>{t('hb_net')} {n.links?.heartbeat?.up ? t('up') : t('down')}</td>
                      <td>{t('gateway')} {n.gateway?.ok ? t('up') : t('down')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {!g && <p class="muted">…</p>}
            </article>
          );
        })}
      </div>
    </section>
  );
}
