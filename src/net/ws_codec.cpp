#include "net/ws_codec.hpp"

#include <cstring>

namespace exceed::net {

bool valid_utf8(std::string_view s) noexcept {
  auto const* p = reinterpret_cast<unsigned char const*>(s.data());
  auto const* const end = p + s.size();
  while (p < end) {
    // Plain ASCII in steps of eight bytes: most JSON is all ASCII.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == end) break;
    unsigned char const c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;       // no overlongs
      else if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;       // no overlongs
      else if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t i = 2; i < len; ++i)
      if ((p[i] & 0xC0) != 0x80) return false;
    p += len;
  }
  return true;
}

std::size_t ws_frame_header(std::uint8_t opcode, std::size_t size, unsigned char out[10]) noexcept {
  out[0] = static_cast<unsigned char>(0x80 | opcode);
  if (size < 126) {
    out[1] = static_cast<unsigned char>(size);
    return 2;
  }
  if (size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(size >> 8);
    out[3] = static_cast<unsigned char>(size);
    return 4;
  }
  out[1] = 127;
  auto const v = static_cast<std::uint64_t>(size);
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(v >> (56 - 8 * i));
  return 10;
}

namespace {

bool valid_close_code(std::uint16_t code) noexcept {
  // Codes a peer may send (RFC 6455 §7.4.1 and the IANA registry); 1005,
  // 1006 and 1015 are never on the wire, 1004 is reserved.
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

void unmask(char* data, std::size_t n, unsigned char const key[4]) noexcept {
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(data[i] ^ key[i & 3]);
}

}  // namespace

void WsReader::refuse(WsSink& sink, std::uint16_t code, std::string_view why) {
  refused_ = true;
  in_message_ = false;
  message_ = std::string();
  sink.ws_refused(code, why);
}

void WsReader::deliver(std::string_view data, bool text, WsSink& sink) {
  if (text && !valid_utf8(data)) {
    refuse(sink, ws_close::bad_payload, "a text message that is not UTF-8");
    return;
  }
  sink.ws_message(data, text);
}

void WsReader::control(std::uint8_t opcode, std::string_view payload, WsSink& sink) {
  if (opcode == ws_opcode::ping) {
    if (!refused_) sink.ws_ping(payload);
    return;
  }
  if (opcode == ws_opcode::pong) return;  // an answer to our keep-alive: the read itself counts
  // close
  closed_ = true;
  if (payload.empty()) {
    sink.ws_close(ws_close::no_status, {});
    return;
  }
  if (payload.size() == 1) {
    if (refused_) sink.ws_close(ws_close::no_status, {});
    else refuse(sink, ws_close::protocol_error, "a close frame of one byte");
    return;
  }
  auto const code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                static_cast<unsigned char>(payload[1]));
  auto const reason = payload.substr(2);
  if (refused_) {
    sink.ws_close(code, reason);
  } else if (!valid_close_code(code)) {
    refuse(sink, ws_close::protocol_error, "a close frame with an invalid code");
  } else if (!valid_utf8(reason)) {
    refuse(sink, ws_close::bad_payload, "a close reason that is not UTF-8");
  } else {
    sink.ws_close(code, reason);
  }
}

// A frame's header as it arrived.
struct FrameHead {
  bool fin = false, masked = false;
  std::uint8_t rsv = 0, opcode = 0;
  std::uint64_t len = 0;     // the payload's length
  std::size_t size = 0;      // the header's own length, the mask key included
  unsigned char key[4] = {};
  bool control() const noexcept { return (opcode & 0x08) != 0; }
  bool untrusted_length() const noexcept { return (len >> 63) != 0 || (control() && len > 125); }
};

namespace {

// Reads the header at h[0, avail); false while it is not all there.
bool read_head(unsigned char const* h, std::size_t avail, FrameHead& f) {
  if (avail < 2) return false;
  f.fin = (h[0] & 0x80) != 0;
  f.rsv = h[0] & 0x70;
  f.opcode = h[0] & 0x0F;
  f.masked = (h[1] & 0x80) != 0;
  f.len = h[1] & 0x7F;
  f.size = 2;
  if (f.len == 126) {
    if (avail < 4) return false;
    f.len = (std::uint64_t{h[2]} << 8) | h[3];
    f.size = 4;
  } else if (f.len == 127) {
    if (avail < 10) return false;
    f.len = 0;
    for (int k = 0; k < 8; ++k) f.len = (f.len << 8) | h[2 + k];
    f.size = 10;
  }
  if (f.masked) {
    if (avail < f.size + 4) return false;
    std::memcpy(f.key, h + f.size, 4);
    f.size += 4;
  }
  return true;
}

}  // namespace

char const* WsReader::problem(FrameHead const& f, std::uint16_t& code) const {
  code = ws_close::protocol_error;
  if (f.rsv != 0) return "reserved bits set (no extension was agreed)";
  if (!f.masked) return "an unmasked frame from a client";
  if (f.len >> 63) return "a frame length with the top bit set";
  if (f.control()) {
    if (f.opcode > ws_opcode::pong) return "an unknown control opcode";
    if (!f.fin || f.len > 125) return "a fragmented or long control frame";
    return nullptr;
  }
  if (f.opcode > ws_opcode::binary) return "an unknown data opcode";
  if (f.opcode == ws_opcode::continuation && !in_message_) return "a continuation without a message";
  if (f.opcode != ws_opcode::continuation && in_message_) return "a new message inside another";
  if (f.len + message_.size() > max_message_) {
    code = ws_close::too_big;
    return "a message over the size limit";
  }
  return nullptr;
}

void WsReader::data_frame(FrameHead const& f, std::string_view payload, WsSink& sink) {
  if (f.opcode != ws_opcode::continuation && f.fin) {
    deliver(payload, f.opcode == ws_opcode::text, sink);  // the usual case: no copy
    return;
  }
  if (f.opcode != ws_opcode::continuation) {
    in_message_ = true;
    message_text_ = f.opcode == ws_opcode::text;
  }
  message_.append(payload);
  if (f.fin) {
    in_message_ = false;
    std::string whole = std::move(message_);
    message_ = std::string();
    deliver(whole, message_text_, sink);
  }
}

std::size_t WsReader::feed(char* data, std::size_t n, WsSink& sink) {
  std::size_t i = 0;
  while (i < n && !closed_) {
    if (skip_ > 0) {
      auto const k = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, n - i));
      skip_ -= k;
      i += k;
      continue;
    }
    FrameHead f;
    if (!read_head(reinterpret_cast<unsigned char const*>(data + i), n - i, f)) break;
    // Past a refusal only a close frame matters; a frame refused now is
    // skipped as it streams in, so the peer's close frame is still seen.
    // A length that cannot be trusted ends the parse.
    bool skip = refused_ && !f.control();
    if (!refused_) {
      std::uint16_t code = 0;
      if (char const* why = problem(f, code)) {
        refuse(sink, code, why);
        skip = true;
      }
    }
    if (skip || (refused_ && f.untrusted_length())) {
      if (f.untrusted_length()) {
        closed_ = true;
        return n;
      }
      skip_ = f.len;
      i += f.size;
      continue;
    }
    if (n - i - f.size < f.len) break;  // the payload is not all here yet
    char* payload = data + i + f.size;
    auto const size = static_cast<std::size_t>(f.len);
    if (f.masked) unmask(payload, size, f.key);
    i += f.size + size;
    if (f.control()) control(f.opcode, std::string_view(payload, size), sink);
    else data_frame(f, std::string_view(payload, size), sink);
    if (!sink.ws_more()) break;
  }
  if (closed_) return n;  // nothing after the close frame is read
  return i;
}

}  // namespace exceed::net
