// The server's judgement of one raw HTTP request, on bytes in memory: the
// same parser, limits, refusals and upgrade test as a live connection
// (http_session.cpp), without a socket. Used by the fuzzer and by tests.
#pragma once

#include "net/server.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace exceed::net {

struct ParsedRequest {
  enum class Kind {
    incomplete,  // a valid beginning: the server would wait for more bytes
    refused,     // the server answers `refusal` (400, 413, 431) and closes
    closed,      // the server closes without an answer
    http,        // a request for Handler::on_http
    ws_upgrade,  // a WebSocket upgrade on the ws path, for Handler::on_ws_upgrade
  };
  Kind kind = Kind::incomplete;
  HttpRequest request;                  // http and ws_upgrade
  std::optional<HttpResponse> refusal;  // refused
  bool keep_alive = false;
  std::size_t consumed = 0;  // bytes the parser used
};

ParsedRequest parse_request(std::string_view bytes, Limits const& limits, std::string_view ws_path);

}  // namespace exceed::net
