#include <hasys/events/catalogue.hpp>

#include <iterator>

namespace hasys::events {

namespace {

constexpr catalogue_entry entries[] = {
    // role (hasys-heartbeat)
    {"activating", "This node is becoming Active", "이 노드가 Active로 전환 중입니다"},
    {"active", "This node is Active", "이 노드는 Active입니다"},
    {"deactivating", "Active node status is shutting down", "Active 노드 상태를 종료합니다"},
    {"standby", "This node is Standby", "이 노드는 Standby입니다"},
    {"failed", "This node is Failed", "이 노드는 장애 상태입니다"},
    {"both_active", "Active node is not in standby", "Active 노드가 Standby로 전환되지 않았습니다"},
    {"peer_lost", "Subnode is not responding", "상대 노드가 응답하지 않습니다"},
    {"peer_alive", "Subnode is responding", "상대 노드가 응답합니다"},
    {"peer_restarted", "Subnode restarted", "상대 노드가 재시작되었습니다"},
    {"link_down", "Heartbeat via", "하트비트 네트워크 상태 변경"},
    {"link_up", "Heartbeat via", "하트비트 네트워크 상태 변경"},
    {"gateway_down", "Gateway is not responding", "게이트웨이가 응답하지 않습니다"},
    {"gateway_up", "Gateway is responding", "게이트웨이가 응답합니다"},
    {"mode", "Failover mode is", "Failover 모드 변경"},
    {"operator_command", "Operator command", "운영자 명령"},
    {"config_changed", "Configuration changed", "환경설정이 변경되었습니다"},
    {"config_restored", "Configuration restored", "환경설정이 이전 버전으로 복원되었습니다"},
    {"config_pending", "Configuration change waits for the resources to be released",
     "환경설정 변경이 자원 해제를 기다립니다"},
    {"config_flow_taken", "Executor starts again to take the new flow",
     "새 자원 흐름을 적용하기 위해 실행기가 다시 시작합니다"},
    {"healthy", "Node health is normal", "노드 상태가 정상입니다"},
    {"unhealthy", "Node health is abnormal", "노드 상태가 비정상입니다"},
    {"unhealthy_kept", "The service stays on an unhealthy node",
     "서비스가 비정상 노드에 유지됩니다"},
    {"self_stall", "This node", "이 노드의 처리가 지연되었습니다"},
    {"priority_not_taken", "This node has the Active priority but does not take the role at start",
     "Active 우선순위 노드가 시작 시 Active 역할을 맡지 않습니다"},
    {"reboot_after_failover", "This server reboots after handing the service over",
     "서비스를 넘긴 후 이 서버를 재부팅합니다"},
    {"release_failed", "Resources could not be released", "자원을 해제하지 못했습니다"},
    {"release_unverified", "Resources may still be held on this node",
     "자원이 이 노드에 남아 있을 수 있습니다"},
    {"resources_found", "Resources are held on this node outside the Active role",
     "Active가 아닌 이 노드에 자원이 있습니다"},
    {"fenced", "Resources released by the executor", "실행기가 자원을 해제했습니다"},
    {"fence_step_failed", "Resource flow node failed while releasing",
     "자원 해제 중 리소스 흐름 노드가 실패했습니다"},
    // resource flow (hasys-executor)
    {"flow_up", "Resource flow is up", "리소스 흐름이 시작되었습니다"},
    {"flow_down", "Resource flow is down", "리소스 흐름이 종료되었습니다"},
    {"flow_stopped", "Resource flow stopped on error", "오류로 리소스 흐름이 중단되었습니다"},
    {"flow_node_failed", "Resource flow node failed", "리소스 흐름 노드가 실패했습니다"},
    {"flow_interrupted", "Resource flow node was interrupted by an executor restart",
     "실행기 재시작으로 리소스 흐름 노드가 중단되었습니다"},
    {"activation_failed", "Resource flow failed to start", "리소스 흐름을 시작하지 못했습니다"},
    {"deactivation_failed", "Resource flow failed to stop", "리소스 흐름을 종료하지 못했습니다"},
    {"journal", "Resource flow journal not written", "리소스 흐름 기록을 쓰지 못했습니다"},
    {"resource_adopted", "Resource is taken over by the restarted executor",
     "재시작된 실행기가 자원을 인수했습니다"},
    {"resource_missing", "Resource disappeared from this node", "자원이 이 노드에서 사라졌습니다"},
    {"resources_released", "Resources were released by the executor",
     "실행기가 자원을 해제했습니다"},
    {"resources_releasing", "Resources are being released by the executor",
     "실행기가 자원을 해제하고 있습니다"},
    {"program_ok", "", "프로그램 실행 성공"},
    {"program_failed", "", "프로그램 실행 실패"},
    {"vip_up", "Virtual IP is normal", "가상 IP가 정상입니다"},
    {"vip_down", "Virtual IP is released", "가상 IP가 해제되었습니다"},
    {"vip_announce", "Virtual IP is announced again", "가상 IP를 다시 알렸습니다"},
    {"vip_conflict", "Virtual IP is in use by another host",
     "가상 IP를 다른 호스트가 사용 중입니다"},
    {"vip_guard_failed", "Duplicate", "가상 IP 중복 확인 실패"},
    {"announce_failed", "Virtual IP could not be announced", "가상 IP를 알리지 못했습니다"},
    {"standby_ready", "", "Standby 인수 준비 완료"},
    {"standby_not_ready", "", "Standby 인수 준비 안 됨"},
    {"node_reboot", "Server is rebooting after failover", "Failover 후 서버를 재부팅합니다"},
    {"node_reboot_failed", "Server reboot after failover failed",
     "Failover 후 서버 재부팅에 실패했습니다"},
    {"drbd_connect_ran", "", "데이터 동기화 재연결 실행"},
    {"drbd_connect_failed", "", "데이터 동기화 재연결 실패"},
    {"process_start_ran", "", "프로세스 시작 명령 실행"},
    {"process_start_failed", "", "프로세스 시작 명령 실패"},
    // monitors (hasys-monitor)
    {"process_up", "Process is normal", "프로세스가 정상입니다"},
    {"process_down", "Process is down", "프로세스가 중지되었습니다"},
    {"process_restarting", "Process is restarting", "프로세스를 재시작합니다"},
    {"process_recovered", "Process is normal", "프로세스가 정상입니다"},
    {"process_failed", "Process could not be recovered", "프로세스를 복구하지 못했습니다"},
    {"process_ambiguous", "Several processes match", "여러 프로세스가 일치합니다"},
    {"cpu_over", "CPU usage is over the limit", "CPU 사용률이 한계를 넘었습니다"},
    {"cpu_normal", "CPU usage is normal", "CPU 사용률이 정상입니다"},
    {"memory_over", "Memory usage is over the limit", "메모리 사용률이 한계를 넘었습니다"},
    {"memory_normal", "Memory usage is normal", "메모리 사용률이 정상입니다"},
    {"network_down", "Network is down", "네트워크가 중지되었습니다"},
    {"network_up", "Network is normal", "네트워크가 정상입니다"},
    {"disk_unmounted", "Shared disk is not mounted", "공유디스크가 마운트되어 있지 않습니다"},
    {"disk_mounted", "Shared disk is mounted", "공유디스크가 마운트되었습니다"},
    {"disk_busy", "Shared disk unmount is waited for", "공유디스크 언마운트를 기다립니다"},
    {"disk_unmount_confirmed", "Shared disk unmount is confirmed",
     "공유디스크 언마운트가 확인되었습니다"},
    {"disk_unmount_unconfirmed", "Shared disk could not be unmounted",
     "공유디스크를 언마운트하지 못했습니다"},
    {"drbd_normal", "Data sync is normal", "데이터 동기화가 정상입니다"},
    {"drbd_abnormal", "Data sync is abnormal", "데이터 동기화가 비정상입니다"},
    {"drbd_reconnecting", "Data sync is reconnecting", "데이터 동기화를 재연결합니다"},
    {"drbd_reconnect_failed", "Data sync could not be reconnected",
     "데이터 동기화를 재연결하지 못했습니다"},
};

}  // namespace

std::span<const catalogue_entry> catalogue() { return entries; }

const catalogue_entry* find(std::string_view code) {
  for (const auto& e : entries)
    if (e.code == code) return &e;
  return nullptr;
}

std::string korean_text(const proto::event_msg& e) {
  const auto* c = find(e.code);
  if (!c) return e.text;
  const std::string_view text = e.text;
  if (!c->en.empty() && text.substr(0, c->en.size()) == c->en) {
    const auto rest = text.substr(c->en.size());
    const auto bracket = rest.find('[');
    return std::string(c->ko) + (bracket == std::string_view::npos
                                     ? std::string()
                                     : " " + std::string(rest.substr(bracket)));
  }
  return std::string(c->ko) + " [" + e.text + "]";
}

}  // namespace hasys::events
