// Building HTTP answers the way PROTOCOL.md gives them: JSON bodies, JSON
// errors with the contract's codes and statuses, and the security headers.
#pragma once

#include "app/db.hpp"
#include "core/actor.hpp"
#include "core/domain.hpp"
#include "net/server.hpp"
#include "protocol/errors.hpp"

#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace exceed::app {

void secure_headers(net::HttpResponse& r);
net::HttpResponse json_response(unsigned status, boost::json::value const& body);
net::HttpResponse error_response(protocol::error code, std::string_view message);
net::HttpResponse from_outcome(Outcome const& o);
net::HttpResponse from_failure(store::Failure const& f);
// A limit's refusal (app/throttle.hpp): 429 rate_limited with Retry-After,
// or the store's error when it could not be asked.
struct Verdict;
net::HttpResponse refusal(Verdict const& v, std::string_view message);

// Who is calling, as routing and access rules need it.
using Actor = core::Actor;

using Query = std::map<std::string, std::string>;

// The value of a query parameter, or "" when absent.
inline std::string query_value(Query const& q, std::string const& key) {
  auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

// The token of an "Authorization: Bearer <token>" header.
std::optional<std::string> bearer_token(net::HttpRequest const& req);

// An integer in [lo, hi] from text; nullopt otherwise.
std::optional<long long> parse_number(std::string const& s, long long lo, long long hi);

}  // namespace exceed::app
