// libFuzzer target: raw bytes from a client after the WebSocket handshake,
// through net::WsReader as the session feeds it (cut into reads of a size
// the first byte picks, the unconsumed rest given again with the next read).
// Besides crashes and sanitizer reports it checks the reader's promises: it
// never uses more than it was given, never holds more unconsumed than one
// frame, delivers no message over the limit and no text that is not UTF-8,
// and reports nothing after a refusal but the close frame.
#include "net/ws_codec.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace exceed::net;

namespace {

constexpr std::size_t max_message = 4096;

void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_ws_reader: broken promise: %s\n", what);
    std::abort();
  }
}

struct Sink : WsSink {
  bool refused = false, closed = false;
  void ws_message(std::string_view data, bool text) override {
    check(!refused && !closed, "a message after a refusal or the close");
    check(data.size() <= max_message, "a message over the limit");
    check(!text || valid_utf8(data), "text that is not UTF-8");
  }
  void ws_ping(std::string_view payload) override {
    check(!refused && !closed, "a ping after a refusal or the close");
    check(payload.size() <= 125, "a long ping");
  }
  void ws_close(std::uint16_t, std::string_view) override {
    check(!closed, "two close frames");
    closed = true;
  }
  void ws_refused(std::uint16_t code, std::string_view) override {
    check(!refused, "two refusals");
    check(code == ws_close::protocol_error || code == ws_close::bad_payload || code == ws_close::too_big,
          "a refusal with another code");
    refused = true;
  }
  bool ws_more() const override { return true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t const step = 1 + data[0] % 64;
  WsReader reader(max_message);
  Sink sink;
  std::string pending;
  for (std::size_t at = 1; at < size; at += step) {
    pending.append(reinterpret_cast<char const*>(data) + at, std::min(step, size - at));
    auto const used = reader.feed(pending.data(), pending.size(), sink);
    check(used <= pending.size(), "used more than it was given");
    pending.erase(0, used);
    check(pending.size() <= reader.max_pending() + step, "held more than one frame unconsumed");
  }
  return 0;
}
