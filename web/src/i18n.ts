// Korean and English (issue 12): Korean by default when the browser prefers it; the choice is kept.
import { signal } from './signal';

export type Lang = 'ko' | 'en';

const en = {
  title: 'hasys manager',
  login: 'Log in',
  user: 'User',
  password: 'Password',
  logout: 'Log out',
  change_password: 'Change the password',
  change_password_first: 'This is the first login: choose a new password before anything else.',
  current_password: 'Current password',
  new_password: 'New password',
  save: 'Save',
  cancel: 'Cancel',
  overview: 'Group monitoring',
  business_group: 'Business group',
  ha_group: 'HA group',
  server: 'Server',
  ip: 'IP',
  alias_ip: 'Alias IP',
  role: 'Role',
  cpu: 'CPU',
  mem: 'MEM',
  processes: 'Processes',
  hb_net: 'HB net',
  traffic: 'Public traffic',
  refresh: 'Refresh',
  download: 'Download (CSV)',
  events: 'Events',
  time: 'Time',
  severity: 'Severity',
  text: 'Text',
  no_events: 'No events yet',
  disconnected: 'The live connection is down: reconnecting…',
  roles_disagree: 'The two servers of this group disagree about the roles',
  stale: 'stale',
  ago: 'ago',
  group_page: 'Group',
  back: 'Back to the overview',
  server_time: 'Server time',
  virtual_ip: 'Virtual IP',
  links: 'Links',
  heartbeat_link: 'Heartbeat network',
  public_link: 'Public network',
  gateway: 'Gateway',
  up: 'up',
  down: 'down',
  resources: 'Resources',
  mode: 'Mode',
  health: 'Health',
  healthy: 'normal',
  unhealthy: 'abnormal',
  facts: 'Hardware / OS',
  disks: 'Disks',
  failover: 'Failover',
  manual_failover: 'Manual failover',
  partition_active: 'Partition: keep this one Active',
  forced_active: 'Forced: make this one Active',
  preview: 'What will happen',
  confirm: 'Confirm',
  type_group: 'Type the group name to confirm',
  active_now: 'Active now',
  active_after: 'Active after',
  readiness: 'Readiness of the taking-over server',
  running_now: 'Running now',
  accepted: 'The server accepted',
  refused: 'The server refused',
  read_only_user: 'read-only',
  language: '한국어',
  none: 'none',
  cpu_chart: 'CPU % (90 s)',
  chart_highest: 'highest',
  mem_chart: 'MEM % (90 s)',
  version: 'Version',
};
type Dict = typeof en;
const ko: Dict = {
  title: 'hasys 관리자',
  login: '로그인',
  user: '사용자',
  password: '비밀번호',
  logout: '로그아웃',
  change_password: '비밀번호 변경',
  change_password_first: '첫 로그인입니다. 먼저 새 비밀번호를 정하십시오.',
  current_password: '현재 비밀번호',
  new_password: '새 비밀번호',
  save: '저장',
  cancel: '취소',
  overview: '종합 모니터링',
  business_group: '업무 그룹',
  ha_group: 'HA 그룹',
  server: '서버',
  ip: 'IP',
  alias_ip: 'Alias IP',
  role: '역할',
  cpu: 'CPU',
  mem: 'MEM',
  processes: '프로세스',
  hb_net: 'HB 네트워크',
  traffic: '일반 네트워크 트래픽',
  refresh: '새로고침',
  download: '다운로드 (CSV)',
  events: '이벤트',
  time: '시간',
  severity: '등급',
  text: '내용',
  no_events: '아직 이벤트가 없습니다',
  disconnected: '실시간 연결이 끊어졌습니다. 다시 연결하는 중…',
  roles_disagree: '이 그룹의 두 서버가 역할에 대해 서로 다르게 보고합니다',
  stale: '오래됨',
  ago: '전',
  group_page: '그룹',
  back: '종합 모니터링으로',
  server_time: '서버 시간',
  virtual_ip: '가상 IP',
  links: '링크',
  heartbeat_link: '하트비트 네트워크',
  public_link: '일반 네트워크',
  gateway: '게이트웨이',
  up: '정상',
  down: '끊김',
  resources: '자원',
  mode: '모드',
  health: '상태',
  healthy: '정상',
  unhealthy: '비정상',
  facts: '하드웨어 / OS',
  disks: '디스크',
  failover: 'Failover',
  manual_failover: '수동 Failover',
  partition_active: '파티션 해소: 이 서버를 Active로 유지',
  forced_active: '강제 Failover: 이 서버를 Active로',
  preview: '실행하면 일어나는 일',
  confirm: '실행',
  type_group: '확인을 위해 그룹 이름을 입력하십시오',
  active_now: '현재 Active',
  active_after: '실행 후 Active',
  readiness: '넘겨받을 서버의 준비 상태',
  running_now: '현재 실행 중',
  accepted: '서버가 받아들였습니다',
  refused: '서버가 거절했습니다',
  read_only_user: '읽기 전용',
  language: 'English',
  none: '없음',
  cpu_chart: 'CPU % (90초)',
  chart_highest: '최고',
  mem_chart: 'MEM % (90초)',
  version: '버전',
};

function initial(): Lang {
  const saved = localStorage.getItem('hasys.lang');
  if (saved === 'ko' || saved === 'en') return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    if (l.toLowerCase().startsWith('ko')) return 'ko';
    if (l.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
}

export const lang = signal<Lang>(initial());
export function setLang(l: Lang) {
  localStorage.setItem('hasys.lang', l);
  document.documentElement.lang = l;
  lang.set(l);
}
export function t(key: keyof Dict): string {
  return (lang.get() === 'ko' ? ko : en)[key];
}

// The settings screens' words (M8, M9).
const extra: Record<Lang, Record<string, string>> = {
  en: {
    agent_settings: 'Agent settings', version: 'version', up_row: 'Move up', down_row: 'Move down',
    remove: 'Remove', add: 'Add', policy_all: 'all down: failover', policy_one: 'one down: failover',
    tab_failover: 'HA_SYS failover', tab_shared_disk: 'Shared disk', tab_single_process: 'Single process',
    tab_multi_process: 'Multi process', tab_network: 'Network', tab_cpu_mem: 'CPU / MEM',
    tab_daemons: 'HA daemons', tab_flow: 'Resource flow', public_interface: 'Public interface',
    daemons_note: 'The hasys daemons are restarted by systemd (Restart=always) and each adopts what is its own; there is nothing to set here.',
    new_node_type: 'Type of a new flow node', apply_to_peer: 'Apply the same to the peer server',
    check: 'Check', checked_ok: 'Checked on every server: nothing written yet', saved: 'Saved',
    settings_link: 'Agent settings',
    event_viewer: 'Event viewer', search_kind: 'Search', basic: 'Basic', detailed: 'Detailed',
    field: 'Field', keyword: 'Keyword', from: 'From', to: 'To', search: 'Search', found: 'Found',
    audit_log: 'Audit log', address: 'Address', action: 'Action', target: 'Target', result: 'Result',
    caused_events: 'Events it caused', caused: 'Caused (tagged with its id)', around: 'Around it in the group',
    manager_settings: 'Manager settings', users: 'Users', created: 'Created', deleted: 'Deleted', added: 'Added',
    add_user: 'Add the user', business_groups: 'Business groups', servers: 'Servers', registered: 'Registered',
    note: 'Note', by_hand: 'by hand', add_server: 'Add the server',
    fault_management: 'Fault management', faults_note: 'Per server and event code ("*" for any; a rule for a server wins over one for "*"): whether the manager keeps the event and whether it forwards it to integrators. With no rule an event is kept and not forwarded.',
    rule_server: 'Server', rule_code: 'Event code', rule_store: 'Keep', rule_forward: 'Forward', save_rules: 'Save the rules',
    sev_information: 'information', sev_warning: 'warning', sev_critical: 'critical',
    multi_view: 'Multi-group view', horizontal: 'Side by side', vertical: 'Stacked', open_multi: 'Multi-group view of the selected',
    edit: 'Edit', full_screen: 'Full screen', wall_ok: 'serving', wall_no_active: 'no Active server', wall_both_active: 'two Active servers',
    wall_silent: 'a server is silent', wall_unhealthy: 'health abnormal', wall_link_down: 'a heartbeat link is down', wall_alone: 'one server only',
    wall_summary: 'HA groups at a glance',
  },
  ko: {
    agent_settings: 'Agent 환경설정', version: '버전', up_row: '위로', down_row: '아래로',
    remove: '삭제', add: '추가', policy_all: '전부 다운 시 Failover', policy_one: '하나 다운 시 Failover',
    tab_failover: 'HA_SYS FAILOVER', tab_shared_disk: '공유디스크 관리', tab_single_process: '단일 프로세스 관리',
    tab_multi_process: '다중 프로세스 관리', tab_network: '다중 네트워크 관리', tab_cpu_mem: 'CPU / MEM 관리',
    tab_daemons: '일반관리', tab_flow: '자원 흐름', public_interface: '일반 네트워크 Interface',
    daemons_note: 'hasys 데몬은 systemd가 자동으로 재기동하며(Restart=always) 각 데몬은 자신의 자원을 이어받습니다. 여기서 설정할 것은 없습니다.',
    new_node_type: '새 흐름 노드의 종류', apply_to_peer: '상대 서버에 동일 적용',
    check: '확인', checked_ok: '모든 서버에서 확인되었습니다. 아직 저장되지 않았습니다', saved: '저장되었습니다',
    settings_link: 'Agent 환경설정',
    event_viewer: '이벤트 조회', search_kind: '조회 방식', basic: '기본 조회', detailed: '상세 조회',
    field: '항목', keyword: '검색어', from: '시작', to: '끝', search: '조회', found: '건수',
    audit_log: '감사 로그', address: '주소', action: '작업', target: '대상', result: '결과',
    caused_events: '일으킨 이벤트', caused: '이 작업의 이벤트', around: '그룹의 전후 이벤트',
    manager_settings: '관리자 설정', users: '사용자', created: '생성', deleted: '삭제되었습니다', added: '추가되었습니다',
    add_user: '사용자 추가', business_groups: '업무 그룹', servers: '서버', registered: '등록',
    note: '메모', by_hand: '수동 등록', add_server: '서버 추가',
    fault_management: '장애 관리', faults_note: '서버와 이벤트 코드별로("*"는 전체, 서버를 지정한 규칙이 "*"보다 우선) 관리자가 이벤트를 저장할지, 연동 시스템으로 전달할지 정합니다. 규칙이 없으면 저장하고 전달하지 않습니다.',
    rule_server: '서버', rule_code: '이벤트 코드', rule_store: '저장', rule_forward: '전달', save_rules: '규칙 저장',
    sev_information: '정보', sev_warning: '경고', sev_critical: '심각',
    multi_view: '다중 그룹 뷰', horizontal: '가로 배치', vertical: '세로 배치', open_multi: '선택한 그룹의 다중 그룹 뷰',
    edit: '편집', full_screen: '전체 화면', wall_ok: '서비스 중', wall_no_active: 'Active 서버 없음', wall_both_active: 'Active 서버 2대',
    wall_silent: '응답 없는 서버', wall_unhealthy: '상태 이상', wall_link_down: '하트비트 링크 다운', wall_alone: '서버 1대뿐',
    wall_summary: 'HA 그룹 한눈에 보기',
  },
};
export function tr(key: string): string {
  return extra[lang.get()][key] ?? key;
}

// E1 in Korean: the manager's event catalogue (code, English title, Korean text), loaded once
// after login; the same rule as the server's korean_text(): the Korean text replaces the English
// title and the event's bracket is kept.
let catalogue = new Map<string, { en: string; ko: string }>();
export function setCatalogue(list: { code: string; en: string; ko: string }[]) {
  catalogue = new Map(list.map((e) => [e.code, { en: e.en, ko: e.ko }]));
}
export function eventText(e: { code: string; text: string }): string {
  if (lang.get() !== 'ko') return e.text;
  const c = catalogue.get(e.code);
  if (!c) return e.text;
  if (c.en && e.text.startsWith(c.en)) {
    const rest = e.text.slice(c.en.length);
    const bracket = rest.indexOf('[');
    return c.ko + (bracket < 0 ? '' : ' ' + rest.slice(bracket));
  }
  return `${c.ko} [${e.text}]`;
}
