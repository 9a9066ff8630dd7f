import { eventText, t, tr } from '../i18n';
import { ageMs, type LiveEvent } from '../live';

// R1: Active in orange, Standby in green, everywhere.
export function RoleBadge({ role, stale }: { role: string | null; stale?: boolean }) {
  const r = role ?? 'unknown';
  const label = r === 'active' ? 'ACT' : r === 'standby' ? 'SBY' : r.toUpperCase();
  return (
    <span class={`role role-${r}${stale ? ' is-stale' : ''}`} data-role={r} title={r}>
      {label}
    </span>
  );
}

// Every value shows its age when it is stale.
export function Age({ unixMs, stale }: { unixMs: number; stale: boolean }) {
  if (!stale || !unixMs) return null;
  const s = Math.max(0, Math.round(ageMs(unixMs) / 1000));
  return (
    <span class="age" title={t('stale')}>
      {t('stale')} · {s}s {t('ago')}
    </span>
  );
}

export function pct(v: number | null | undefined) {
  return v === null || v === undefined ? '–' : `${Math.round(v)}%`;
}

export function rate(v: number | null | undefined) {
  if (v === null || v === undefined) return '–';
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} MB/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} kB/s`;
  return `${Math.round(v)} B/s`;
}

export function clock(unixMs: number) {
  if (!unixMs) return '–';
  const d = new Date(unixMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function EventList({ events, limit }: { events: LiveEvent[]; limit: number }) {
  const shown = events.slice(0, limit);
  if (!shown.length) return <p class="muted">{t('no_events')}</p>;
  return (
    <table class="events">
      <thead>
        <tr>
          <th scope="col">{t('time')}</th>
          <th scope="col">{t('ha_group')}</th>
          <th scope="col">{t('server')}</th>
          <th scope="col">{t('severity')}</th>
          <th scope="col">{t('text')}</th>
        </tr>
      </thead>
      <tbody>
        {shown.map((e) => (
          <tr class={`sev-${e.severity}`} key={`${e.time_unix_ms}${e.node}${e.code}${e.text}`}>
            <td>{clock(e.time_unix_ms)}</td>
            <td>{e.group}</td>
            <td>{e.node}</td>
            <td>{tr(`sev_${e.severity}`)}</td>
            <td>{eventText(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
