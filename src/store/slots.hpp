// The keyspace of a Redis Cluster as its specification defines it ("Redis
// Cluster Specification", sections "Key distribution model" and "Hash tags",
// and its Appendix A for CRC16): 16384 hash slots; a key belongs to slot
// CRC16(hash tag) mod 16384. Debian's hiredis 0.14 knows nothing of
// clusters, so the store layer follows the specification itself.
//
// Pure functions: no I/O, no Redis; unit tests in tests/store/cluster_unit_test.cpp.
#pragma once

#include "store/redis.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace exceed::store {

inline constexpr std::uint16_t slot_count = 16384;

// CRC16 as the specification's appendix: CCITT polynomial 0x1021, initial
// value 0, no reflection, no final xor (the "XMODEM" variant).
// crc16("123456789") == 0x31C3.
std::uint16_t crc16(std::string_view data) noexcept;

// The part of `key` that is hashed: what lies between the first '{' and the
// first '}' after it, when that is not empty; otherwise the whole key. So
// "conv:{42}:msgs" and "conv:{42}" share a slot, "a{}{b}" hashes whole.
std::string_view hash_tag(std::string_view key) noexcept;

std::uint16_t key_slot(std::string_view key) noexcept;

// How a cluster client sends a command, from its name and arguments.
struct CommandRoute {
  enum class Kind : std::uint8_t {
    keyed,    // to the primary of args[key_index]'s slot
    keyless,  // to any primary (PING, INFO, SCRIPT LOAD, EVALSHA with no KEYS)
    refused,  // would change the state of a link every caller shares
  };
  Kind kind = Kind::keyless;
  std::size_t key_index = 0;
};

// EVAL, EVALSHA, FCALL and their read-only forms (any case).
bool is_script(std::string_view verb);

// The rule for commands whose caller names no routing key: the first key
// argument. That is args[1] for most commands, the first of KEYS for
// EVAL/EVALSHA/FCALL (keyless when numkeys is 0), the first stream after
// STREAMS for XREAD/XREADGROUP, args[2] for OBJECT, MEMORY USAGE, XINFO,
// XGROUP and BITOP. Refused: pub/sub and MONITOR (they turn the link into a
// push stream), transactions (MULTI..EXEC needs one caller on one link),
// and SELECT, ASKING, READONLY, READWRITE, AUTH, HELLO, RESET, QUIT.
CommandRoute route_of(Args const& args);

}  // namespace exceed::store
