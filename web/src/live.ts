// The live state over /api/v1/stream (pushed, never polled): every node line of the user's groups,
// the whole views of up to 4 watched groups, and the events as they come. Reconnects by itself.
import { api } from './api';
import { signal } from './signal';

export interface NodeRow {
  group: string;
  node: string;
  protocol_version: number;
  stale: boolean;
  status_unix_ms: number;
  time_unix_ms: number;
  role: string | null;
  mode: string | null;
  epoch: number;
  healthy: boolean;
  held: boolean;
  peer_alive: boolean;
  gateway_ok: boolean;
  heartbeat_up: boolean;
  public_up: boolean;
  cpu_percent: number | null;
  memory_percent: number | null;
  processes_total: number | null;
  rx_bytes_per_s: number | null;
  tx_bytes_per_s: number | null;
}

export interface LiveEvent {
  time_unix_ms: number;
  group: string;
  node: string;
  severity: string;
  code: string;
  text: string;
  details?: Record<string, string>;
}

export interface LiveState {
  connected: boolean;
  server_offset_ms: number; // server clock - browser clock
  rows: Map<string, NodeRow>; // "group/node"
  groups: Map<string, any>; // watched groups' whole views
  events: LiveEvent[]; // newest first, at most 200
  first_data_ms: number; // performance.now() of the first snapshot (benchmarks)
}

export const live = signal<LiveState>({
  connected: false,
  server_offset_ms: 0,
  rows: new Map(),
  groups: new Map(),
  events: [],
  first_data_ms: 0,
});

let socket: WebSocket | null = null;
let watching: string[] = [];
let retry = 500;
let stopped = true;

function update(f: (s: LiveState) => void) {
  const s = { ...live.get(), rows: new Map(live.get().rows), groups: new Map(live.get().groups) };
  f(s);
  live.set(s);
}

export function startLive() {
  stopped = false;
  connect();
}

export function stopLive() {
  stopped = true;
  socket?.close();
  socket = null;
  live.set({ connected: false, server_offset_ms: 0, rows: new Map(), groups: new Map(), events: [], first_data_ms: 0 });
}

export function watch(groups: string[]) {
  watching = groups.slice(0, 4);
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ watch: watching }));
}

function connect() {
  if (stopped) return;
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`);
  socket = ws;
  ws.onopen = () => {
    retry = 500;
    ws.send(JSON.stringify({ watch: watching }));
  };
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data as string);
    update((s) => {
      s.connected = true;
      if (msg.type === 'snapshot') {
        s.rows.clear();
        if (!s.first_data_ms) s.first_data_ms = performance.now();
        seedEvents();
      }
      if (typeof msg.server_time_unix_ms === 'number') s.server_offset_ms = msg.server_time_unix_ms - Date.now();
      for (const r of msg.nodes ?? []) s.rows.set(`${r.group}/${r.node}`, r);
      for (const g of msg.groups ?? []) s.groups.set(g.name, g);
      for (const name of msg.removed ?? []) {
        s.groups.delete(name);
        for (const k of [...s.rows.keys()]) if (k.startsWith(name + '/')) s.rows.delete(k);
      }
      if (msg.events?.length) s.events = [...[...msg.events].reverse(), ...s.events].slice(0, 200);
    });
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    update((s) => {
      s.connected = false;
    });
    if (!stopped) {
      // The session may have ended (expired, logged out elsewhere): then back to the login.
      fetch('/api/v1/session', { credentials: 'same-origin' })
        .then((r) => {
          if (r.status === 401) dispatchEvent(new Event('hasys-session-ended'));
        })
        .catch(() => undefined);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 5000);
    }
  };
}

// E2: the stream brings the events from its snapshot on; the window before it (per group the
// last 10 minutes or the latest 10) comes from the event store once per connection.
async function seedEvents() {
  try {
    const page = await api<any>('GET', '/api/v1/events?kind=window&page_size=200');
    const older: LiveEvent[] = (page.events ?? []).map((row: any) => row.event);
    update((s) => {
      const seen = new Set(s.events.map((e) => `${e.time_unix_ms}/${e.node}/${e.code}/${e.text}`));
      const merged = [...s.events, ...older.filter((e) => !seen.has(`${e.time_unix_ms}/${e.node}/${e.code}/${e.text}`))];
      merged.sort((a, b) => b.time_unix_ms - a.time_unix_ms);
      s.events = merged.slice(0, 200);
    });
  } catch {
    // no event store on this manager: the window fills from the stream
  }
}

// How old a value from the server is, in the server's clock.
export function ageMs(unixMs: number): number {
  return Date.now() + live.get().server_offset_ms - unixMs;
}
