// libFuzzer target: one client WebSocket text frame, as the server gets it,
// through protocol::decode, the role check and the encoding of the answer.
// Besides crashes and sanitizer reports it checks what the contract
// promises: a frame is either a request or an error of a client code, the
// error message and the echoed id make valid JSON, and a request id is a
// non-empty string or an integer.
#include "protocol/codec.hpp"

// Instrumented Boost.JSON: its parser is where most of the input goes.
#include <boost/json/src.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <variant>

using namespace exceed;

namespace {

void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_frame_decoder: broken promise: %s\n", what);
    std::abort();
  }
}

bool parses(std::string const& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return !ec && v.is_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view frame(reinterpret_cast<char const*>(data), size);
  auto decoded = protocol::decode(frame);
  if (auto const* req = std::get_if<protocol::Request>(&decoded)) {
    check(!req->type.empty(), "a request has a type");
    check(req->id.is_null() || (req->id.is_string() && !req->id.get_string().empty()) || req->id.is_int64() ||
              req->id.is_uint64(),
          "a request id is null, a non-empty string or an integer");
    for (auto role : {core::Role::customer, core::Role::agent, core::Role::supervisor})
      (void)protocol::allowed(req->command, role);
    check(parses(protocol::encode_ack(req->id)), "the ack is valid JSON");
    return 0;
  }
  auto const& bad = std::get<protocol::DecodeError>(decoded);
  check(bad.code == protocol::error::bad_request || bad.code == protocol::error::too_large,
        "a refused frame gets bad_request or too_large");
  check(parses(protocol::encode_error(bad.id, bad.code, bad.message)), "the error is valid JSON");
  return 0;
}
