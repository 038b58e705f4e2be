// Building HTTP answers the way PROTOCOL.md gives them (see http_util.hpp).
#include "app/http_util.hpp"

#include "app/throttle.hpp"

#include <boost/json/serialize.hpp>

namespace exceed::app {
namespace json = boost::json;
using protocol::error;

void secure_headers(net::HttpResponse& r) {
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  r.headers.push_back({"Cache-Control", "no-store"});
}

net::HttpResponse json_response(unsigned status, json::value const& body) {
  net::HttpResponse r;
  r.status = status;
  r.body = json::serialize(body);
  secure_headers(r);
  return r;
}

net::HttpResponse error_response(error code, std::string_view message) {
  protocol::count_error(code);
  json::object inner;
  inner["code"] = protocol::code_name(code);
  inner["message"] = message;
  json::object body;
  body["error"] = std::move(inner);
  return json_response(protocol::http_status(code), body);
}

net::HttpResponse from_outcome(Outcome const& o) { return error_response(*o.error, o.message); }

net::HttpResponse from_failure(store::Failure const& f) { return from_outcome(to_outcome(f)); }

net::HttpResponse refusal(Verdict const& v, std::string_view message) {
  if (v.failure) return from_failure(*v.failure);
  auto r = error_response(error::rate_limited, message);
  r.headers.push_back({"Retry-After", std::to_string(core::retry_after_seconds(v.wait))});
  return r;
}

std::optional<long long> parse_number(std::string const& s, long long lo, long long hi) {
  try {
    std::size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used != s.size() || v < lo || v > hi) return std::nullopt;
    return v;
  } catch (std::exception const&) {
    return std::nullopt;
  }
}

std::optional<std::string> bearer_token(net::HttpRequest const& req) {
  auto h = req.header("Authorization");
  if (!h || h->size() < 8 || h->substr(0, 7) != "Bearer ") return std::nullopt;
  return std::string(h->substr(7));
}

}  // namespace exceed::app
