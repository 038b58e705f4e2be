// A WebSocket frame as a client sends it (RFC 6455 5.2): FIN, opcode, the
// shortest length form, masked with a fixed key. For the tests that write
// frames by hand, below a real client or without a socket.
#pragma once

#include <cstdint>
#include <string>

namespace exceed::test {

inline std::string client_frame(std::uint8_t opcode, std::string const& payload, bool fin = true, bool mask = true,
                                std::uint8_t rsv = 0) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | rsv | opcode));
  unsigned char const m = mask ? 0x80 : 0;
  auto const n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(m | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF));
  }
  unsigned char const key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (mask) f.append(reinterpret_cast<char const*>(key), 4);
  for (std::size_t i = 0; i < n; ++i) f.push_back(mask ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
  return f;
}

}  // namespace exceed::test
