// The HTTP side: health, the visitor and login endpoints, the conversation
// API and the static web clients. JSON errors as PROTOCOL.md gives them.
#include "app/app.hpp"
#include "app/metrics.hpp"
#include "app/reports.hpp"
#include "app/assessments.hpp"
#include "app/directory.hpp"
#include "app/followups.hpp"
#include "app/tickets.hpp"
#include "app/http_util.hpp"
#include "store/accounts.hpp"
#include "store/scripts.hpp"
#include "app/throttle.hpp"
#include "app/users.hpp"
#include "app/webhooks.hpp"
#include "app/mail.hpp"
#include "app/attachments.hpp"
#include "app/replies.hpp"
#include "app/visitors.hpp"
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

std::optional<std::string> bearer(net::HttpRequest const& req) {
  auto h = req.header("Authorization");
  if (!h || h->size() < 8 || h->substr(0, 7) != "Bearer ") return std::nullopt;
  return std::string(h->substr(7));
}

}  // namespace

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

boost::asio::awaitable<net::HttpResponse> App::route_http(net::HttpRequest& req) {
  auto target = parse_target(req.target);
  if (!target) co_return error_response(error::bad_request, "malformed request target");
  auto const& path = target->path;
  auto const& method = req.method;

  if (path == "/healthz") {
    json::object body;
    body["status"] = "ok";
    co_return json_response(200, body);
  }
  if (path == "/readyz") {
    bool ready = db_->connected() && !stopping_;
    json::object body;
    body["status"] = ready ? "ready" : "unavailable";
    body["store"] = db_->connected() ? "up" : "down";
    co_return json_response(ready ? 200 : 503, body);
  }
  if (path == "/metrics") {
    // Prometheus scrapes: open, or only with metrics.token when metrics.public is false.
    if (method != "GET") co_return error_response(error::bad_request, "use GET");
    auto const& m = config_.metrics;
    if (!m.prometheus_public) {
      auto token = bearer(req);
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

  if (path.rfind("/api/", 0) == 0) {
    // Every API body is a JSON object; parse it once here.
    json::object body;
    // A customer's e-mail reply, as the mail server hands it over (the body
    // is the raw message), authenticated by mail.inbound_secret.
    if (path == "/api/v1/mail/inbound") {
      if (method != "POST") co_return error_response(error::bad_request, "use POST");
      co_return co_await mailer_->inbound(bearer(req), std::move(req.body));
    }
    bool upload = path == "/api/v1/attachments";  // the body is the file
    if ((method == "POST" || method == "PATCH") && !upload) {
      std::error_code ec;
      json::parse_options opts;
      opts.max_depth = protocol::max_json_depth;
      auto v = json::parse(req.body.empty() ? std::string_view("{}") : std::string_view(req.body), ec, {}, opts);
      if (ec || !v.is_object()) co_return error_response(error::bad_request, "the body must be a JSON object");
      body = std::move(v.get_object());
    }
    auto str = [&](std::string_view key, std::size_t max) -> std::optional<std::string> {
      auto const* v = body.if_contains(key);
      if (!v || v->is_null()) return std::string();
      if (!v->is_string() || v->get_string().size() > max) return std::nullopt;
      return std::string(v->get_string());
    };

    if (path == "/api/v1/visitors") {
      if (method != "POST") co_return error_response(error::bad_request, "use POST");
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
      auto now = now_ms();
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

    if (path == "/api/v1/login") {
      if (method != "POST") co_return error_response(error::bad_request, "use POST");
      auto username = str("username", 64);
      auto password = str("password", 1024);
      if (!username || !password || username->empty() || password->empty())
        co_return error_response(error::bad_request, "username and password are required strings");
      auto const address = client_address(req);
      // What the log says of a name an attacker typed: only a valid username.
      std::string const shown = valid_username(*username) ? *username : std::string("(not a username)");
      auto rate = co_await throttle_->take("login", address, config_.limits.logins_per_address_per_min, 60'000,
                                           now_ms());
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
      Claims c{user.id, role, user.name, now_ms() + config_.auth.token_ttl_s * 1000LL};
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
    if (path.rfind("/api/v1/csat/", 0) == 0) {
      if (method != "POST") co_return error_response(error::bad_request, "use POST");
      auto link = verify_csat_link(config_.auth.token_secret, path.substr(13), now_ms());
      if (!link) co_return error_response(error::unauthorized, "this link is not valid or has expired");
      json::object frame = body;
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

    auto directory = co_await directory_http(*this, req, path, target->query);
    if (directory) co_return std::move(*directory);

    // Everything below needs a bearer token.
    auto token = bearer(req);
    if (!token) co_return error_response(error::unauthorized, "missing bearer token");
    TokenProblem why{};
    auto claims = tokens_.verify(*token, now_ms(), &why);
    if (!claims)
      co_return error_response(error::unauthorized,
                               why == TokenProblem::expired ? "the token has expired" : "the token is not valid");
    std::string role(core::to_string(claims->role));
    std::string teams;
    if (claims->role != core::Role::customer) {
      // As at a WebSocket hello: the account must still exist, with this
      // role, enabled, and the token must not have been revoked.
      auto account = co_await account_store_->account(claims->subject);
      if (!account) co_return from_failure(account.failure());
      auto const* stored = account->has_value() ? &**account : nullptr;
      if (auto why = staff_token_refusal(*claims, stored)) co_return error_response(error::unauthorized, *why);
      teams = stored->teams_csv;
    }

    if (path == "/api/v1/reports/sla") {
      if (method != "GET") co_return error_response(error::bad_request, "use GET");
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await reports_->sla(actor, target->query);
    }
    if (path == "/api/v1/reports/summary") {
      if (method != "GET") co_return error_response(error::bad_request, "use GET");
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await reports_->summary(actor, req, target->query);
    }
    if (path == "/api/v1/reports/consistency") {
      if (method != "GET") co_return error_response(error::bad_request, "use GET");
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await assessments_->consistency_report(actor, target->query);
    }
    if (path == "/api/v1/reviews" || path.rfind("/api/v1/reviews/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await assessments_->http(actor, method, path.substr(15), target->query, std::move(body));
    }
    if (path == "/api/v1/tickets" || path.rfind("/api/v1/tickets/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await tickets_->http(actor, method, path.substr(15), target->query, std::move(body));
    }
    if (path == "/api/v1/attachments" || path.rfind("/api/v1/attachments/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await attachments_->http(actor, method, path.substr(19), target->query, std::move(req.body));
    }
    if (path == "/api/v1/webhooks" || path.rfind("/api/v1/webhooks/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await webhooks_->http(actor, method, path.substr(16), target->query, std::move(body));
    }
    if (path == "/api/v1/mail/transcript") {
      if (method != "POST") co_return error_response(error::bad_request, "use POST");
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await mailer_->transcript(actor, std::move(body));
    }
    // The supervisors' view of the outgoing mail queue (inbound, above,
    // takes the mail server's secret instead of a user's token).
    if (path == "/api/v1/mail" || path.rfind("/api/v1/mail/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await mailer_->http(actor, method, path.substr(12), target->query);
    }
    if (path == "/api/v1/replies" || path.rfind("/api/v1/replies/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await replies_->http(actor, method, path.substr(15), target->query, std::move(body));
    }
    if (path == "/api/v1/reports/invitations") {
      if (method != "GET") co_return error_response(error::bad_request, "use GET");
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await visitors_->report(actor, target->query);
    }
    if (path == "/api/v1/followups" || path.rfind("/api/v1/followups/", 0) == 0) {
      Actor actor{claims->role, claims->subject, teams};
      co_return co_await followups_->http(actor, method, path.substr(17), target->query, std::move(body));
    }

    constexpr std::string_view prefix = "/api/v1/conversations";
    if (path.rfind(prefix, 0) == 0) {
      if (method != "GET") co_return error_response(error::bad_request, "use GET");
      std::string_view rest = std::string_view(path).substr(prefix.size());
      if (rest.empty() || rest == "/") {
        // A page of conversations, newest first. The cursor is the last
        // item's (created_at, id); newer inserts land before it, so paging
        // is stable while chats keep arriving.
        auto limit = parse_number(target->query.count("limit") ? target->query["limit"] : "50", 1, 200);
        if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
        std::string max_score = "+inf";
        std::string after_id;
        if (auto it = target->query.find("cursor"); it != target->query.end() && !it->second.empty()) {
          auto colon = it->second.find(':');
          if (colon == std::string::npos || !parse_number(it->second.substr(0, colon), 0, 1LL << 53))
            co_return error_response(error::bad_request, "malformed cursor");
          max_score = it->second.substr(0, colon);
          after_id = it->second.substr(colon + 1);
        }
        std::string index = claims->role == core::Role::customer ? "visitor:" + claims->subject + ":convs" : "convs";
        auto filter = [&](std::string_view key) -> std::string {
          auto it = target->query.find(std::string(key));
          return it == target->query.end() ? std::string() : it->second;
        };
        json::array items;
        std::optional<std::string> next;
        std::size_t scanned = 0;
        constexpr std::size_t scan_budget = 2000;
        while (items.size() < static_cast<std::size_t>(*limit) && scanned < scan_budget) {
          auto page = co_await db_->cmd("ZREVRANGEBYSCORE", db_->key(index), max_score, "-inf", "WITHSCORES",
                                          "LIMIT", "0", "100");
          if (!page) co_return from_outcome(page);
          auto const& e = page.reply.elements;
          if (e.empty()) break;
          bool progressed = false;
          for (std::size_t i = 0; i + 1 < e.size() && items.size() < static_cast<std::size_t>(*limit); i += 2) {
            auto const& id = e[i].str;
            auto const& score = e[i + 1].str;
            // Same-score members come in reverse lexical order; skip up to the cursor.
            if (score == max_score && !after_id.empty() && id >= after_id) continue;
            progressed = true;
            ++scanned;
            max_score = score;
            after_id = id;
            auto rec = co_await db_->call(db_->scripts().access, id, role, claims->subject, teams);
            if (!rec) continue;  // not visible to this caller
            auto const& r = rec.reply;
            if ((!filter("status").empty() && field(r, "status") != filter("status")) ||
                (!filter("team").empty() && field(r, "team") != filter("team")) ||
                (!filter("agent_id").empty() && field(r, "agent") != filter("agent_id")) ||
                (!filter("visitor_id").empty() && field(r, "visitor") != filter("visitor_id")))
              continue;
            items.push_back(conversation_json(r));
            next = score + ":" + id;
          }
          if (!progressed) break;
          if (e.size() < 200 && items.size() < static_cast<std::size_t>(*limit)) {
            next.reset();  // the index is exhausted
            break;
          }
        }
        if (items.size() < static_cast<std::size_t>(*limit) && scanned < scan_budget) next.reset();
        else if (scanned >= scan_budget) next = max_score + ":" + after_id;
        json::object out;
        out["items"] = std::move(items);
        out["next_cursor"] = next ? json::value(*next) : json::value(nullptr);
        co_return json_response(200, out);
      }
      rest.remove_prefix(1);
      auto slash = rest.find('/');
      std::string id(rest.substr(0, slash));
      std::string_view sub = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such conversation");
      if (sub.empty()) {
        auto rec = co_await db_->call(db_->scripts().access, id, role, claims->subject, teams);
        if (!rec) co_return from_outcome(rec);
        auto c = conversation_json(rec.reply);
        if (claims->role == core::Role::customer) c.erase("assessment");  // the team's judgement, not the customer's view
        co_return json_response(200, c);
      }
      if (sub == "/messages") {
        auto after = parse_number(target->query.count("after_seq") ? target->query["after_seq"] : "0", 0, 1LL << 53);
        auto limit = parse_number(target->query.count("limit") ? target->query["limit"] : "50", 1, 200);
        if (!after || !limit) co_return error_response(error::bad_request, "after_seq must be >= 0 and limit 1..200");
        auto o = co_await db_->call(db_->scripts().history, id, role, claims->subject, teams,
                                                            std::to_string(*after), std::to_string(*limit + 1));
        if (!o) co_return from_outcome(o);
        json::array items;
        std::int64_t last = *after;
        std::size_t n = o.reply.elements.size() > 1 ? o.reply.elements[1].elements.size() : 0;
        for (std::size_t i = 0; i < n && i < static_cast<std::size_t>(*limit); ++i) {
          auto m = message_json(id, o.reply.elements[1].elements[i]);
          last = m["seq"].as_int64();
          items.push_back(std::move(m));
        }
        json::object out;
        out["items"] = std::move(items);
        out["next_cursor"] = n > static_cast<std::size_t>(*limit) ? json::value(std::to_string(last)) : json::value(nullptr);
        co_return json_response(200, out);
      }
    }
    co_return error_response(error::not_found, "no such endpoint");
  }

  // Static web clients: only the files found in web_root at start.
  if (method != "GET" && method != "HEAD") co_return error_response(error::not_found, "no such endpoint");
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
