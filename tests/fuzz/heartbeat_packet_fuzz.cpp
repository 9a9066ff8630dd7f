// libFuzzer target for the heartbeat packet parser and verifier (clang -fsanitize=fuzzer).
#include <hasys/proto/heartbeat_packet.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::uint8_t> key(32, 0x5a);
  static hasys::proto::packet_verifier verifier("GROUP-Linux", "node-b", key);
  verifier.verify(std::span(data, size));
  return 0;
}
