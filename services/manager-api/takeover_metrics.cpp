// Takeover phase histograms from vip_up events.
#include "takeover_metrics.hpp"

#include <boost/json/string.hpp>

#include <charconv>
#include <cstdio>

namespace json = boost::json;

namespace hasys::manager {

void takeover_metrics::observe(const json::object& event) {
  const auto* code = event.if_contains("code");
  if (!code || !code->is_string() || code->as_string() != "vip_up") return;
  const auto* details = event.if_contains("details");
  if (!details || !details->is_object()) return;
  const auto& d = details->as_object();
  if (!d.contains("decision_to_announce_ms")) return;  // not a takeover the heartbeat timed
  ++takeovers_;
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const auto* v = d.if_contains(std::string(phases[p]) + "_ms");
    if (!v) continue;  // peer_silent only after a peer was lost
    double ms = -1;
    if (v->is_string()) {
      const auto& s = v->as_string();
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
      if (ec != std::errc{} || end != s.data() + s.size()) ms = -1;
    } else if (v->is_number()) {
      ms = v->to_number<double>();
    }
    if (!(ms >= 0)) {
      ++unreadable_;
      continue;
    }
    const double s = ms / 1000.0;
    auto& h = by_phase_[p];
    std::size_t b = 0;
    while (b < bounds.size() && s > bounds[b]) ++b;
    ++h.counts[b];
    h.sum += s;
    ++h.count;
  }
}

void takeover_metrics::write(std::string& out) const {
  constexpr const char* name = "hasys_takeover_phase_seconds";
  out += std::string("# HELP ") + name +
         " Takeovers phase by phase: peer_silent (the peer's last packet to the decision), "
         "decision_to_executor, executor_to_address (the virtual IP added), address_to_announce (the first "
         "gratuitous ARP sent), decision_to_announce (the whole).\n# TYPE " +
         name + " histogram\n";
  char num[32];
  for (std::size_t p = 0; p < phases.size(); ++p) {
    const auto& h = by_phase_[p];
    const std::string label = std::string("phase=\"") + phases[p] + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < bounds.size(); ++b) {
      cumulative += h.counts[b];
      std::snprintf(num, sizeof num, "%g", bounds[b]);
      out += std::string(name) + "_bucket{" + label + ",le=\"" + num + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += h.counts.back();
    out += std::string(name) + "_bucket{" + label + ",le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    std::snprintf(num, sizeof num, "%.6f", h.sum);
    out += std::string(name) + "_sum{" + label + "} " + num + "\n";
    out += std::string(name) + "_count{" + label + "} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP hasys_takeover_phases_unreadable_total Takeover phases in events that were not numbers.\n"
         "# TYPE hasys_takeover_phases_unreadable_total counter\nhasys_takeover_phases_unreadable_total " +
         std::to_string(unreadable_) + "\n";
}

}  // namespace hasys::manager
