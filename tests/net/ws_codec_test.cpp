// WebSocket framing without a socket: client frames as a browser masks
// them, cut anywhere, and every refusal the reader must make.
#include "net/ws_codec.hpp"
#include "net/client_frame.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace exceed::net;

namespace {

using exceed::test::client_frame;

std::string close_payload(std::uint16_t code, std::string const& reason = "") {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p + reason;
}

struct Seen : WsSink {
  std::vector<std::string> messages;
  std::vector<bool> text;
  std::vector<std::string> pings;
  std::vector<std::uint16_t> closes;
  std::vector<std::uint16_t> refusals;
  bool more = true;
  void ws_message(std::string_view d, bool t) override {
    messages.emplace_back(d);
    text.push_back(t);
  }
  void ws_ping(std::string_view p) override { pings.emplace_back(p); }
  void ws_close(std::uint16_t code, std::string_view) override { closes.push_back(code); }
  void ws_refused(std::uint16_t code, std::string_view) override { refusals.push_back(code); }
  bool ws_more() const override { return more; }
};

// Feeds `bytes` in pieces of `step`, keeping what the reader leaves, as the session does.
void feed_in_pieces(WsReader& r, Seen& seen, std::string const& bytes, std::size_t step) {
  std::string pending;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    pending += bytes.substr(at, step);
    auto used = r.feed(pending.data(), pending.size(), seen);
    pending.erase(0, used);
  }
}

}  // namespace

TEST_CASE("client frames in one read or cut anywhere give the same messages") {
  std::string const big(70'000, 'x');  // a 64-bit length
  std::string const mid(300, 'y');     // a 16-bit length
  auto const bytes = client_frame(0x1, R"({"type":"hello"})") + client_frame(0x1, mid) + client_frame(0x2, "\x01\x02") +
                     client_frame(0x1, big) + client_frame(0x9, "are you there") +
                     client_frame(0x1, "part one, ", false) + client_frame(0xA, "") + client_frame(0x0, "part two") +
                     client_frame(0x8, close_payload(1000, "bye"));
  for (std::size_t step : {bytes.size(), std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    WsReader r(100'000);
    Seen seen;
    feed_in_pieces(r, seen, bytes, step);
    INFO("pieces of " << step);
    REQUIRE(seen.messages == std::vector<std::string>{R"({"type":"hello"})", mid, "\x01\x02", big, "part one, part two"});
    REQUIRE(seen.text == std::vector<bool>{true, true, false, true, true});
    REQUIRE(seen.pings == std::vector<std::string>{"are you there"});
    REQUIRE(seen.closes == std::vector<std::uint16_t>{1000});
    REQUIRE(seen.refusals.empty());
  }
}

TEST_CASE("the reader stops after a message when its caller can take no more, and goes on where it stopped") {
  auto bytes = client_frame(0x1, "one") + client_frame(0x1, "two") + client_frame(0x1, "three");
  WsReader r(1024);
  Seen seen;
  seen.more = false;
  auto used = r.feed(bytes.data(), bytes.size(), seen);
  REQUIRE(seen.messages == std::vector<std::string>{"one"});
  seen.more = true;
  std::string rest = bytes.substr(used);
  used = r.feed(rest.data(), rest.size(), seen);
  REQUIRE(used == rest.size());
  REQUIRE(seen.messages == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("a message over the limit is refused with 1009 at its header, skipped, and the close frame still seen") {
  WsReader r(1000);
  Seen seen;
  auto bytes = client_frame(0x1, std::string(5000, 'a')) + client_frame(0x1, "after") +
               client_frame(0x8, close_payload(1009));
  feed_in_pieces(r, seen, bytes, 512);
  REQUIRE(seen.refusals == std::vector<std::uint16_t>{1009});
  REQUIRE(seen.messages.empty());
  REQUIRE(seen.closes == std::vector<std::uint16_t>{1009});
  // Fragments adding up past the limit too.
  WsReader f(1000);
  Seen s2;
  auto parts = client_frame(0x1, std::string(600, 'a'), false) + client_frame(0x0, std::string(600, 'b'));
  f.feed(parts.data(), parts.size(), s2);
  REQUIRE(s2.refusals == std::vector<std::uint16_t>{1009});
  REQUIRE(s2.messages.empty());
}

TEST_CASE("frames that break the protocol are refused with 1002, text that is not UTF-8 with 1007") {
  struct Case {
    char const* what;
    std::string bytes;
    std::uint16_t code;
  };
  std::vector<Case> const cases{
      {"unmasked", client_frame(0x1, "hi", true, false), 1002},
      {"reserved bit", client_frame(0x1, "hi", true, true, 0x40), 1002},
      {"unknown data opcode", client_frame(0x3, "hi"), 1002},
      {"unknown control opcode", client_frame(0xB, ""), 1002},
      {"fragmented ping", client_frame(0x9, "x", false), 1002},
      {"long ping", client_frame(0x9, std::string(126, 'p')), 1002},
      {"continuation first", client_frame(0x0, "x"), 1002},
      {"new message inside another", client_frame(0x1, "a", false) + client_frame(0x1, "b"), 1002},
      {"close with one byte", client_frame(0x8, "x"), 1002},
      {"close with code 1005", client_frame(0x8, close_payload(1005)), 1002},
      {"close with code 999", client_frame(0x8, close_payload(999)), 1002},
      {"text not UTF-8", client_frame(0x1, "caf\xC3"), 1007},
      {"overlong UTF-8", client_frame(0x1, "\xC0\xAF"), 1007},
      {"a surrogate", client_frame(0x1, "\xED\xA0\x80"), 1007},
      {"close reason not UTF-8", client_frame(0x8, close_payload(1000, "\xFF")), 1007},
  };
  for (auto const& c : cases) {
    INFO(c.what);
    WsReader r(1 << 20);
    Seen seen;
    std::string b = c.bytes;
    r.feed(b.data(), b.size(), seen);
    REQUIRE(seen.refusals == std::vector<std::uint16_t>{c.code});
    REQUIRE(seen.messages.empty());
    REQUIRE(r.refused());
  }
  // Past a refusal, pings are not answered and messages not delivered;
  // the close frame is still reported.
  WsReader r(1024);
  Seen seen;
  auto bytes = client_frame(0x1, "hi", true, false) + client_frame(0x9, "ping") + client_frame(0x1, "later") +
               client_frame(0x8, close_payload(1002));
  r.feed(bytes.data(), bytes.size(), seen);
  REQUIRE(seen.pings.empty());
  REQUIRE(seen.messages.empty());
  REQUIRE(seen.closes == std::vector<std::uint16_t>{1002});
}

TEST_CASE("nothing after the close frame is read, and a frame whose length cannot be trusted ends the parse") {
  WsReader r(1024);
  Seen seen;
  auto bytes = client_frame(0x8, "") + client_frame(0x1, "too late");
  REQUIRE(r.feed(bytes.data(), bytes.size(), seen) == bytes.size());
  REQUIRE(seen.closes == std::vector<std::uint16_t>{ws_close::no_status});
  REQUIRE(seen.messages.empty());

  WsReader huge(1024);
  Seen s2;
  // A 64-bit length with its top bit set (the NULs need the explicit size).
  std::string h("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x00", 10);
  h += "abcdrest";
  REQUIRE(huge.feed(h.data(), h.size(), s2) == h.size());
  REQUIRE(s2.refusals == std::vector<std::uint16_t>{1002});
}

TEST_CASE("UTF-8 is checked as RFC 3629 says") {
  REQUIRE(valid_utf8(""));
  REQUIRE(valid_utf8("plain ascii, long enough to take the eight-byte steps"));
  REQUIRE(valid_utf8("Grüße, ≥ 10 €, 🙂"));
  REQUIRE(valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  REQUIRE_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  REQUIRE_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  REQUIRE_FALSE(valid_utf8("\xF0\x9F\x99"));      // cut short
  REQUIRE_FALSE(valid_utf8("abc\x80"));           // a lone continuation
  REQUIRE_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));
}

TEST_CASE("server frame headers use the shortest length form") {
  unsigned char h[10];
  REQUIRE(ws_frame_header(ws_opcode::text, 5, h) == 2);
  REQUIRE(h[0] == 0x81);
  REQUIRE(h[1] == 5);
  REQUIRE(ws_frame_header(ws_opcode::text, 126, h) == 4);
  REQUIRE(h[1] == 126);
  REQUIRE(((h[2] << 8) | h[3]) == 126);
  REQUIRE(ws_frame_header(ws_opcode::close, 65536, h) == 10);
  REQUIRE(h[0] == 0x88);
  REQUIRE(h[1] == 127);
  REQUIRE(h[7] == 1);
  REQUIRE(h[9] == 0);
}
