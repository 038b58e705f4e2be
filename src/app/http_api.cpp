// The HTTP side: CORS and the Host check, the route table of the API (each
// resource's handler lives with its feature: tickets, follow-ups, reviews,
// reports, saved replies, conversations, the directory), the endpoints of
// the process itself (health, readiness, Prometheus), the visitor, login
// and CSAT-link endpoints, and the static web clients. JSON errors as
// PROTOCOL.md gives them.
#include "app/app.hpp"
#include "app/metrics.hpp"
#include "app/reports.hpp"
#include "app/assessments.hpp"
#include "app/directory.hpp"
#include "app/followups.hpp"
#include "app/tickets.hpp"
#include "app/http_router.hpp"
#include "app/http_util.hpp"
#include "store/accounts.hpp"
#include "app/throttle.hpp"
#include "app/users.hpp"
#include "app/webhooks.hpp"
#include "app/mail.hpp"
#include "app/attachments.hpp"
#include "app/replies.hpp"
#include "app/visitors.hpp"
#include "app/webhooks.hpp"
#include "app/mail.hpp"
#include "app/attachments.hpp"
#include "app/wire.hpp"
#include "net/security.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <string_view>

namespace exceed::app {
namespace json = boost::json;
using protocol::error;

namespace {

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

std::optional<Target> parse_target(std::string const& raw) {
  auto u = boost::urls::parse_origin_form(raw);
  if (!u) return std::nullopt;
  Target t;
  t.path = u->path();
  for (auto const& p : u->params()) t.query[p.key] = p.value;
  return t;
}

// A string field of a JSON body: "" when absent or null, nullopt when it is
// not a string or is longer than `max` bytes.
std::optional<std::string> body_string(json::object const& body, std::string_view key, std::size_t max) {
  auto const* v = body.if_contains(key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string() || v->get_string().size() > max) return std::nullopt;
  return std::string(v->get_string());
}

// Reads a POST or PATCH body as the JSON object every API body is.
std::optional<json::object> json_body(net::HttpRequest const& req) {
  if (req.method != "POST" && req.method != "PATCH") return json::object();
  std::error_code ec;
  json::parse_options opts;
  opts.max_depth = protocol::max_json_depth;
  auto v = json::parse(req.body.empty() ? std::string_view("{}") : std::string_view(req.body), ec, {}, opts);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

// CORS: the widget runs on a shop's own pages, so the API answers browsers
// from the allowed origins (server.allowed_origins) with the CORS headers,
// preflight included; other origins get none, so browsers keep them out.
// Host: a name this server does not answer for is refused before anything
// else (DNS rebinding), except on the operators' paths, which probes and
// scrapers reach by service names.
boost::asio::awaitable<net::HttpResponse> App::on_http(net::HttpRequest req) {
  auto path = std::string_view(req.target).substr(0, req.target.find('?'));
  bool operators = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (!operators && !host_allowed(req))
    co_return error_response(error::bad_request, "this server does not answer for that Host (server.public_hosts)");
  auto origin = req.header("Origin");
  bool api = req.target.rfind("/api/", 0) == 0;
  std::string allow_origin;
  if (api && origin && origin_allowed(*origin, req)) allow_origin = std::string(*origin);
  net::HttpResponse r;
  if (api && req.method == "OPTIONS") {
    r.status = allow_origin.empty() ? 403 : 204;
    r.content_type.clear();
    if (!allow_origin.empty()) {
      r.headers.push_back({"Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS"});
      r.headers.push_back({"Access-Control-Allow-Headers", "Authorization, Content-Type"});
      r.headers.push_back({"Access-Control-Max-Age", "600"});
    }
  } else {
    try {
      r = co_await route_http(req);
    } catch (std::exception const& e) {
      spdlog::error("http {} {}: {}", req.method, req.target.substr(0, 200), e.what());
      r = error_response(error::internal, "internal error");
    }
  }
  if (!allow_origin.empty()) {
    r.headers.push_back({"Access-Control-Allow-Origin", allow_origin});
    r.headers.push_back({"Vary", "Origin"});
  }
  co_return r;
}

// The API. A resource answering several methods under one prefix takes
// any method and tells them apart itself ("use GET" when none fits).
void App::make_routes() {
  auto resource = [this](auto handler) {
    return [this, handler](HttpCall& call) { return handler(*call.actor, call); };
  };
  auto& r = routes_;
  // The process itself: probes and scrapers, by service name too.
  r.add({"", "/healthz", Access::anyone, BodyKind::raw, [](HttpCall&) -> boost::asio::awaitable<net::HttpResponse> {
           co_return json_response(200, json::object{{"status", "ok"}});
         }});
  r.add({"", "/readyz", Access::anyone, BodyKind::raw, [this](HttpCall&) -> boost::asio::awaitable<net::HttpResponse> {
           bool ready = db_->connected() && !stopping_;
           json::object body{{"status", ready ? "ready" : "unavailable"}, {"store", db_->connected() ? "up" : "down"}};
           co_return json_response(ready ? 200 : 503, body);
         }});
  r.add({"", "/metrics", Access::anyone, BodyKind::raw, [this](HttpCall& c) { return prometheus(c); }});
  // Before a login.
  r.add({"POST", "/api/v1/visitors", Access::anyone, BodyKind::json, [this](HttpCall& c) { return new_visitor(c); }});
  r.add({"POST", "/api/v1/login", Access::anyone, BodyKind::json, [this](HttpCall& c) { return login(c); }});
  r.add({"POST", "/api/v1/csat/*", Access::anyone, BodyKind::json, [this](HttpCall& c) { return csat_link(c); }});
  // The availability is public; the directory checks its staff token itself.
  for (auto const* path : {"/api/v1/availability", "/api/v1/directory"})
    r.add({"GET", path, Access::anyone, BodyKind::raw, [this](HttpCall& c) -> boost::asio::awaitable<net::HttpResponse> {
             auto answer = co_await directory_http(*this, c.req, c.path, c.query);
             co_return answer ? std::move(*answer) : error_response(error::not_found, "no such endpoint");
           }});
  // Signed in.
  r.add({"GET", "/api/v1/reports/sla", Access::signed_in, BodyKind::json, resource([this](Actor const& a, HttpCall& c) {
           return reports_->sla(a, c.query);
         })});
  r.add({"GET", "/api/v1/reports/summary", Access::signed_in, BodyKind::json,
         resource([this](Actor const& a, HttpCall& c) { return reports_->summary(a, c.req, c.query); })});
  r.add({"GET", "/api/v1/reports/consistency", Access::signed_in, BodyKind::json,
         resource([this](Actor const& a, HttpCall& c) { return assessments_->consistency_report(a, c.query); })});
  r.add({"GET", "/api/v1/reports/invitations", Access::signed_in, BodyKind::json,
         resource([this](Actor const& a, HttpCall& c) { return visitors_->report(a, c.query); })});
  r.add({"", "/api/v1/reviews/*", Access::signed_in, BodyKind::json, resource([this](Actor const& a, HttpCall& c) {
           return assessments_->http(a, c.req.method, c.rest, c.query, std::move(c.body));
         })});
  r.add({"", "/api/v1/tickets/*", Access::signed_in, BodyKind::json, resource([this](Actor const& a, HttpCall& c) {
           return tickets_->http(a, c.req.method, c.rest, c.query, std::move(c.body));
         })});
  r.add({"", "/api/v1/replies/*", Access::signed_in, BodyKind::json, resource([this](Actor const& a, HttpCall& c) {
           return replies_->http(a, c.req.method, c.rest, c.query, std::move(c.body));
         })});
  r.add({"", "/api/v1/followups/*", Access::signed_in, BodyKind::json, resource([this](Actor const& a, HttpCall& c) {
           return followups_->http(a, c.req.method, c.rest, c.query, std::move(c.body));
         })});
  r.add({"", "/api/v1/conversations/*", Access::signed_in, BodyKind::json,
         resource([this](Actor const& a, HttpCall& c) { return conversations_->http(a, c.req.method, c.rest, c.query); })});
  // Files: the body of an upload is the file itself.
  r.add({"", "/api/v1/attachments/*", Access::signed_in, BodyKind::raw, resource([this](Actor const& a, HttpCall& c) {
           return attachments_->http(a, c.req.method, c.rest, c.query, std::move(c.req.body));
         })});
  r.add({"", "/api/v1/webhooks/*", Access::signed_in, BodyKind::json, resource([this](Actor const& a, HttpCall& c) {
           return webhooks_->http(a, c.req.method, c.rest, c.query, std::move(c.body));
         })});
  // E-mail: a customer's chat mailed to them; the supervisors' view of the
  // outgoing queue; and a customer's reply as the operator's mail server
  // hands it over (the raw message, authenticated by mail.inbound_secret
  // instead of a user's token).
  r.add({"POST", "/api/v1/mail/transcript", Access::signed_in, BodyKind::json,
         resource([this](Actor const& a, HttpCall& c) { return mailer_->transcript(a, std::move(c.body)); })});
  r.add({"", "/api/v1/mail/*", Access::signed_in, BodyKind::json,
         resource([this](Actor const& a, HttpCall& c) { return mailer_->http(a, c.req.method, c.rest, c.query); })});
  r.add({"POST", "/api/v1/mail/inbound", Access::anyone, BodyKind::raw, [this](HttpCall& c) {
           return mailer_->inbound(bearer_token(c.req), std::move(c.req.body));
         }});
}

// Who a signed-in route's caller is: a valid token and, for staff, an
// account that still exists with this role, enabled and not revoked (as at
// a WebSocket hello); or the 401 that says why not.
boost::asio::awaitable<std::variant<Actor, net::HttpResponse>> App::caller(net::HttpRequest const& req) {
  auto token = bearer_token(req);
  if (!token) co_return error_response(error::unauthorized, "missing bearer token");
  TokenProblem why{};
  auto claims = tokens_.verify(*token, clock_.now(), &why);
  if (!claims)
    co_return error_response(error::unauthorized,
                             why == TokenProblem::expired ? "the token has expired" : "the token is not valid");
  Actor actor{claims->role, claims->subject, {}};
  if (claims->role != core::Role::customer) {
    auto account = co_await account_store_->account(claims->subject);
    if (!account) co_return from_failure(account.failure());
    auto const* stored = account->has_value() ? &**account : nullptr;
    if (auto refused = staff_token_refusal(*claims, stored)) co_return error_response(error::unauthorized, *refused);
    actor.teams_csv = stored->teams_csv;
  }
  co_return actor;
}

// A request's way through: the route table for the process's endpoints and
// the API, else the static files. In order, as the contract answers: a
// malformed JSON body (400), a missing or bad token (401; also for an API
// path that does not exist, so a stranger learns nothing of what does), a
// method the path does not take (400 "use ..."), then the handler.
boost::asio::awaitable<net::HttpResponse> App::route_http(net::HttpRequest& req) {
  auto target = parse_target(req.target);
  if (!target) co_return error_response(error::bad_request, "malformed request target");
  auto found = routes_.match(req.method, target->path);
  bool api = target->path.rfind("/api/", 0) == 0;
  if (!found.pattern && !api) co_return co_await static_file(req);
  HttpCall call{req, std::move(target->path), std::move(target->query), std::move(found.rest), {}, std::nullopt};
  if (api && (!found.pattern || found.pattern->body == BodyKind::json)) {
    auto body = json_body(req);
    if (!body) co_return error_response(error::bad_request, "the body must be a JSON object");
    call.body = std::move(*body);
  }
  if (!found.pattern || found.pattern->access == Access::signed_in) {
    auto who = co_await caller(req);
    if (auto* refused = std::get_if<net::HttpResponse>(&who)) co_return std::move(*refused);
    call.actor = std::get<Actor>(std::move(who));
  }
  if (!found.pattern) co_return error_response(error::not_found, "no such endpoint");
  if (!found.route) co_return error_response(error::bad_request, "use " + found.allowed);
  co_return co_await found.route->handler(call);
}

// GET /metrics: Prometheus scrapes, open, or only with metrics.token when
// metrics.public is false.
boost::asio::awaitable<net::HttpResponse> App::prometheus(HttpCall& call) {
  if (call.req.method != "GET") co_return error_response(error::bad_request, "use GET");
  auto const& m = config_.metrics;
  if (!m.prometheus_public) {
    auto token = bearer_token(call.req);
    if (m.prometheus_token.empty())
      co_return error_response(error::unauthorized, "GET /metrics needs metrics.token to be set (or metrics.public)");
    if (!token || !constant_time_equal(*token, m.prometheus_token))
      co_return error_response(error::unauthorized, "GET /metrics needs the metrics token");
  }
  net::HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = co_await metrics_->prometheus();
  secure_headers(r);
  co_return r;
}

// POST /api/v1/visitors: a customer's identity for the widget (a token),
// verified by the shop's HMAC when it gives user_id and user_hash.
boost::asio::awaitable<net::HttpResponse> App::new_visitor(HttpCall& call) {
  auto& req = call.req;
  auto str = [&](std::string_view key, std::size_t max) { return body_string(call.body, key, max); };
  auto name = str("name", 100);
  auto email = str("email", 254);
  auto user_id = str("user_id", 128);
  auto user_hash = str("user_hash", 128);
  if (!name || !email || !user_id || !user_hash)
    co_return error_response(error::bad_request, "name, email, user_id and user_hash must be short strings");
  bool verified = false;
  if (!user_id->empty() && !config_.auth.identity_secret.empty()) {
    auto expected = hmac_sha256_hex(config_.auth.identity_secret, *user_id);
    if (!constant_time_equal(expected, *user_hash))
      co_return error_response(error::unauthorized, "user_hash does not match user_id");
    verified = true;
  } else if (config_.auth.require_identity) {
    co_return error_response(error::unauthorized, "identity verification is required: give user_id and user_hash");
  }
  auto now = clock_.now();
  auto rate = co_await throttle_->take("visitors", client_address(req), config_.limits.visitors_per_address_per_min,
                                       60'000, now);
  if (rate.refused()) {
    if (!rate.failure) metrics_->rate_limited("visitors");
    co_return refusal(rate, "too many new visitors from this address");
  }
  // A visitor who never starts a chat or a ticket is forgotten (see
  // visitor_save.lua); one who did is kept.
  std::string visitor_id;
  if (verified) {
    // A verified customer keeps one visitor id, and with it their history.
    auto candidate = random_id("v_");
    auto id = co_await account_store_->visitor_of_user(*user_id, candidate);
    if (!id) co_return from_failure(id.failure());
    visitor_id = std::move(*id);
  } else {
    visitor_id = random_id("v_");
  }
  std::string display = name->empty() ? "Visitor" : *name;
  // g++ 12 mis-destroys temporaries of a ?: inside a co_await: name them first.
  std::string linked_user = verified ? *user_id : std::string();
  store::Visitor visitor{visitor_id, display, *email, linked_user, now, config_.auth.visitor_idle_ttl_s};
  auto saved = co_await account_store_->save_visitor(visitor);
  if (!saved) co_return from_failure(saved.failure());
  Claims c{visitor_id, core::Role::customer, display, now + config_.auth.visitor_token_ttl_s * 1000LL};
  json::object out;
  out["visitor_id"] = visitor_id;
  out["token"] = tokens_.sign(c);
  out["expires_at"] = c.expires_at;
  co_return json_response(201, out);
}

// POST /api/v1/login: a staff token for a username and password, with the
// back-off and the bounded hashing pool of docs/RELIABILITY.md.
boost::asio::awaitable<net::HttpResponse> App::login(HttpCall& call) {
  auto& req = call.req;
  auto str = [&](std::string_view key, std::size_t max) { return body_string(call.body, key, max); };
  auto username = str("username", 64);
  auto password = str("password", 1024);
  if (!username || !password || username->empty() || password->empty())
    co_return error_response(error::bad_request, "username and password are required strings");
  auto const address = client_address(req);
  // What the log says of a name an attacker typed: only a valid username.
  std::string const shown = valid_username(*username) ? *username : std::string("(not a username)");
  auto rate = co_await throttle_->take("login", address, config_.limits.logins_per_address_per_min, 60'000,
                                       clock_.now());
  if (rate.refused()) {
    if (!rate.failure) metrics_->login_refused("rate_limited");
    co_return refusal(rate, "too many logins from this address");
  }
  auto wait = co_await throttle_->login_wait(*username, address);
  if (wait.refused()) {
    if (!wait.failure) {
      metrics_->login_refused("throttled");
      spdlog::warn("login: {} from {} refused for {} s after failed attempts", shown, address,
                   core::retry_after_seconds(wait.wait));
    }
    co_return refusal(wait, "too many failed logins: try again later");
  }
  auto account = co_await account_store_->by_username(*username);
  if (!account) co_return from_failure(account.failure());
  store::Account user = account->value_or(store::Account{});
  // Unknown users cost a hash too, so timing does not tell which names exist.
  std::string stored = user.password_hash;
  std::string against = stored.empty() ? unmatchable_password_hash(config_.auth.password_iterations) : stored;
  // A full hashing queue answers at once rather than making everyone
  // wait (checked right before the check joins it: no await between).
  if (hashing_full()) {
    metrics_->login_refused("busy");
    auto r = error_response(error::unavailable, "too many logins at once: try again in a moment");
    r.headers.push_back({"Retry-After", "1"});
    co_return r;
  }
  bool ok = co_await check_password(*password, against);
  bool disabled = user.disabled;
  if (!ok || stored.empty() || disabled) {
    co_await throttle_->login_failed(*username, address);
    metrics_->login_refused(disabled && ok ? "disabled" : "password");
    spdlog::warn("login: failed for {} from {}{}", shown, address, disabled && ok ? " (account disabled)" : "");
    co_return error_response(error::unauthorized, "wrong username or password");
  }
  co_await throttle_->login_succeeded(*username);
  auto role = core::parse_role(user.role).value_or(core::Role::agent);
  Claims c{user.id, role, user.name, clock_.now() + config_.auth.token_ttl_s * 1000LL};
  c.version = store::parse_integer(user.token_version).value_or(0);
  json::object out;
  out["token"] = tokens_.sign(c);
  out["role"] = core::to_string(role);
  out["agent_id"] = user.id;
  out["name"] = c.name;
  out["expires_at"] = c.expires_at;
  spdlog::info("login: {} ({}) from {}", shown, core::to_string(role), address);
  co_return json_response(200, out);
}

// POST /api/v1/csat/{link}: the CSAT answer from a signed link (no login),
// any part of it alone; validated as the csat.submit frame is.
boost::asio::awaitable<net::HttpResponse> App::csat_link(HttpCall& call) {
  auto link = verify_csat_link(config_.auth.token_secret, (call.rest.empty() ? std::string() : call.rest.substr(1)), clock_.now());
  if (!link) co_return error_response(error::unauthorized, "this link is not valid or has expired");
  json::object frame = call.body;
  frame["type"] = "csat.submit";
  frame["id"] = 0;
  frame["conversation_id"] = link->conversation_id;
  auto decoded = protocol::decode(json::serialize(frame));
  if (auto const* bad = std::get_if<protocol::DecodeError>(&decoded)) co_return error_response(bad->code, bad->message);
  auto const& answer = std::get<protocol::CsatSubmit>(std::get<protocol::Request>(decoded).command);
  auto o = co_await assessments_->answer_csat(link->visitor_id, answer);
  if (!o) co_return from_failure(o.failure());
  co_return json_response(200, Assessments::csat_json(link->conversation_id, *o));
}

// The static web clients: only the files found in web_root at start.
boost::asio::awaitable<net::HttpResponse> App::static_file(net::HttpRequest const& req) {
  if (req.method != "GET" && req.method != "HEAD") co_return error_response(error::not_found, "no such endpoint");
  auto raw_path = std::string_view(req.target).substr(0, req.target.find('?'));
  auto found = static_files_.find(raw_path);
  if (found.kind == net::StaticFiles::Found::Kind::redirect) {
    net::HttpResponse r;
    r.status = 301;
    r.headers.push_back({"Location", found.location});
    secure_headers(r);
    co_return r;
  }
  if (found.kind != net::StaticFiles::Found::Kind::file) co_return error_response(error::not_found, "no such file");
  net::HttpResponse r;
  r.content_type = found.file->content_type;
  r.file_path = found.file->disk_path;
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Cache-Control", "no-cache"});
  if (found.file->page) {
    // Pages may be framed only by this origin (clickjacking of the console
    // and the dashboard); widget.js is a script, not a page, and any site
    // may load it.
    r.headers.push_back({"X-Frame-Options", "SAMEORIGIN"});
    r.headers.push_back({"Referrer-Policy", "no-referrer"});
    r.headers.push_back({"Content-Security-Policy", net::page_security_policy_of_file(*r.file_path)});
  }
  co_return r;
}

}  // namespace exceed::app
