// WebSocket framing (RFC 6455) after the handshake, without I/O: the server
// side's reader of the client's frames and the header of the server's own.
//
// The session reads into a buffer shared by the whole event loop and hands
// the bytes to WsReader::feed, which unmasks complete frames in place and
// reports whole messages as views into that buffer (no copy for the usual
// one-frame message). What it cannot use yet (a header or a frame cut by the
// read) it leaves unconsumed, for the session to keep until more arrives;
// only a message in several frames is assembled in memory of its own.
// Beast still answers the handshake; it is not used after it, so an idle
// session holds no reader or writer buffer at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace exceed::net {

struct FrameHead;  // ws_codec.cpp

// Close codes the reader gives for what it refuses (RFC 6455 §7.4.1).
namespace ws_close {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t no_status = 1005;  // a close frame without a code (never sent)
inline constexpr std::uint16_t bad_payload = 1007;  // text that is not UTF-8
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace ws_close

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// past U+10FFFF), as a text message and a close reason must be.
bool valid_utf8(std::string_view s) noexcept;

// What the reader found, told to its caller as it parses.
class WsSink {
 public:
  // A complete message; the view lives until the call returns.
  virtual void ws_message(std::string_view data, bool text) = 0;
  virtual void ws_ping(std::string_view payload) = 0;
  // The peer's close frame: its code (ws_close::no_status without one).
  virtual void ws_close(std::uint16_t code, std::string_view reason) = 0;
  // The peer broke the protocol or a limit: close with `code`. The reader
  // goes on skipping what follows, frame by frame, so the peer's close
  // frame is still seen; it reports nothing else but that close.
  virtual void ws_refused(std::uint16_t code, std::string_view why) = 0;
  // Asked after each message: false stops feed() there (backpressure).
  virtual bool ws_more() const = 0;

 protected:
  ~WsSink() = default;
};

class WsReader {
 public:
  explicit WsReader(std::size_t max_message) : max_message_(max_message) {}

  // Parses what it can of data[0, n), unmasking complete frames in place,
  // and returns how many bytes it used; the caller gives the rest again,
  // followed by more, in the next call. A frame's payload is waited for
  // whole (at most max_message bytes plus a 14-byte header); a frame bigger
  // than the limit is refused at its header and skipped as it streams in.
  std::size_t feed(char* data, std::size_t n, WsSink& sink);

  // The bytes a caller must be able to hold unconsumed: one whole frame.
  std::size_t max_pending() const noexcept { return max_message_ + 14; }
  bool refused() const noexcept { return refused_; }
  // Memory of its own (a message in several frames being assembled).
  std::size_t held_bytes() const noexcept { return message_.capacity(); }

 private:
  // Why a frame with this header may not be taken (nullptr: it may), and
  // the close code for it.
  char const* problem(FrameHead const& f, std::uint16_t& code) const;
  void data_frame(FrameHead const& f, std::string_view payload, WsSink& sink);
  void refuse(WsSink& sink, std::uint16_t code, std::string_view why);
  void deliver(std::string_view data, bool text, WsSink& sink);
  void control(std::uint8_t opcode, std::string_view payload, WsSink& sink);

  std::size_t max_message_;
  std::uint64_t skip_ = 0;         // payload bytes still to drop (a refused frame)
  std::string message_;            // a fragmented message so far
  bool in_message_ = false;        // a first frame without FIN was seen
  bool message_text_ = false;
  bool refused_ = false;           // past a refusal: only the close frame counts
  bool closed_ = false;            // the peer's close frame was seen: nothing after it counts
};

// Writes the header of a server frame (FIN set, unmasked) for a payload of
// `size` bytes into out[0, 10) and returns its length (2, 4 or 10).
std::size_t ws_frame_header(std::uint8_t opcode, std::size_t size, unsigned char out[10]) noexcept;

namespace ws_opcode {
inline constexpr std::uint8_t continuation = 0x0;
inline constexpr std::uint8_t text = 0x1;
inline constexpr std::uint8_t binary = 0x2;
inline constexpr std::uint8_t close = 0x8;
inline constexpr std::uint8_t ping = 0x9;
inline constexpr std::uint8_t pong = 0xA;
}  // namespace ws_opcode

}  // namespace exceed::net
