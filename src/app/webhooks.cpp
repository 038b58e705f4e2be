#include "app/webhooks.hpp"
#include "app/wire.hpp"

#include "app/auth.hpp"
#include "app/version.hpp"
#include "net/http_client.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
namespace wh = core::webhook;
using protocol::error;

namespace {

constexpr auto pump_every = std::chrono::milliseconds(200);
constexpr core::Millis refresh_every_ms = 2'000;
constexpr core::Millis reclaim_every_ms = 5'000;
constexpr core::Millis reclaim_idle_ms = 30'000;  // an outbox entry read this long ago by a process that died
constexpr int outbox_batch = 100;
constexpr std::size_t max_url_chars = 2'000;
constexpr std::size_t max_description_chars = 200;


// The type of an encoded event without parsing it: encode_event writes it first.
std::string_view type_of(std::string_view frame) {
  constexpr std::string_view head = R"({"type":")";
  if (frame.substr(0, head.size()) != head) return {};
  auto end = frame.find('"', head.size());
  return end == std::string_view::npos ? std::string_view() : frame.substr(head.size(), end - head.size());
}

std::string text_of(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

double spread() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

// The subscribed event types from a JSON body: an array of known types or
// "*"; the reason when it is not.
std::optional<std::vector<std::string>> events_of(json::value const* v, std::string* why) {
  if (!v || !v->is_array() || v->get_array().empty() || v->get_array().size() > 20) {
    *why = "events must be a list of 1 to 20 event types (or [\"*\"])";
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (auto const& e : v->get_array()) {
    if (!e.is_string() || (e.get_string() != "*" && !wh::known_event_type(e.get_string()))) {
      std::string known;
      for (auto t : wh::event_types()) known += (known.empty() ? "" : ", ") + std::string(t);
      *why = "events: " + (e.is_string() ? "'" + std::string(e.get_string()).substr(0, 64) + "'" : std::string("a non-string")) +
             " is not an event type (one of " + known + ", or *)";
      return std::nullopt;
    }
    if (std::find(out.begin(), out.end(), e.get_string()) == out.end()) out.emplace_back(e.get_string());
  }
  return out;
}

}  // namespace

std::optional<WebhookEvent> webhook_event(std::string_view frame, std::string id, core::Millis now) {
  std::error_code ec;
  auto v = json::parse(frame, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto data = std::move(v.get_object());
  auto type = text_of(data, "type");
  if (!wh::known_event_type(type)) return std::nullopt;
  data.erase("type");
  WebhookEvent e;
  e.id = std::move(id);
  e.type = type;
  std::string conversation = text_of(data, "conversation_id"), ticket = text_of(data, "ticket_id");
  if (auto const* t = data.if_contains("ticket"); t && t->is_object()) {
    if (conversation.empty()) conversation = text_of(t->get_object(), "conversation_id");
    if (ticket.empty()) ticket = text_of(t->get_object(), "id");
  }
  if (!conversation.empty()) e.lane = "c:" + conversation;
  else if (!ticket.empty()) e.lane = "t:" + ticket;
  else if (auto f = text_of(data, "followup_id"); !f.empty()) e.lane = "f:" + f;
  else e.lane = "-";
  json::object body;
  body["id"] = e.id;
  body["type"] = e.type;
  body["created_at"] = now;
  body["data"] = std::move(data);
  e.body = json::serialize(body);
  return e;
}

Webhooks::Webhooks(Deps deps) : d_(std::move(deps)), periodic_(d_.executor, d_.store_up, "webhooks") {
  for (auto const& r : d_.config.allowed_ranges)
    if (auto range = net::parse_ip_range(r)) allowed_.push_back(*range);
  backoff_.first = d_.config.retry_first_ms;
  backoff_.max = d_.config.retry_max_s * 1000LL;
  using Type = core::prom::Registry::Type;
  auto& m = d_.metrics;
  m.describe("exceed_webhook_events_total", Type::counter, "Events this process put in the webhook outbox.");
  m.describe("exceed_webhook_deliveries_total", Type::counter,
             "Webhook delivery attempts of this process, by result (delivered, failed).");
  m.describe("exceed_webhook_disabled_total", Type::counter,
             "Webhook subscriptions this process disabled after failing for webhooks.disable_after_s.");
  m.describe("exceed_webhook_delivery_seconds", Type::histogram, "Time of one webhook delivery attempt.",
             {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  enqueued_ = &m.counter("exceed_webhook_events_total");
  delivered_ = &m.counter("exceed_webhook_deliveries_total", {{"result", "delivered"}});
  failed_ = &m.counter("exceed_webhook_deliveries_total", {{"result", "failed"}});
  disabled_ = &m.counter("exceed_webhook_disabled_total");
  latency_ = &m.histogram("exceed_webhook_delivery_seconds");
}

void Webhooks::start() { periodic_.every(pump_every, this, &Webhooks::pump); }

void Webhooks::stop() { periodic_.stop(); }

// ------------------------------------------------------------ the outbox

void Webhooks::published(std::string_view frame) {
  // A follow-up's due event is recorded where its timer fires (happened());
  // what is published later is its delivery to the owner's next session.
  if (type_of(frame) == "followup.due") return;
  happened(frame);
}

void Webhooks::happened(std::string_view frame) {
  auto type = type_of(frame);
  if (type.empty() || !wh::known_event_type(type)) return;
  bool wanted = std::any_of(active_.begin(), active_.end(), [&](auto const& w) { return wh::wants(w.events, type); });
  if (wanted) enqueue(frame);
}

void Webhooks::enqueue(std::string_view frame) {
  auto e = webhook_event(frame, random_id("ev_"), d_.clock.now());
  if (!e) return;
  ++*enqueued_;
  // Written at once (co_spawn runs it up to its write), so events enter the
  // outbox in the order they were published.
  asio::co_spawn(
      d_.executor,
      [](store::WebhookStore& store, WebhookEvent e) -> asio::awaitable<void> {
        auto o = co_await store.enqueue(e.id, e.type, e.lane, e.body);
        if (!o) spdlog::error("webhooks: event {} ({}) not put in the outbox: {}", e.id, e.type, o.failure().message);
      }(d_.store, std::move(*e)),
      asio::detached);
}

asio::awaitable<void> Webhooks::refresh() {
  auto all = co_await d_.store.list();
  if (!all) co_return;
  active_.clear();
  for (std::size_t i = 0; i < all->size(); ++i)
    if ((*all)[i].status == "active") active_.push_back(std::move((*all)[i]));
  refreshed_at_ = d_.clock.now();
}

// Every 200 ms: outbox entries into lanes (and, now and then, those a dead
// process had read), then the due lanes' heads out, up to max_in_flight.
asio::awaitable<void> Webhooks::pump() {
  auto now = d_.clock.now();
  if (now - refreshed_at_ >= refresh_every_ms) co_await refresh();
  if (!group_ready_) {
    if (!co_await d_.store.ensure_group()) co_return;
    group_ready_ = true;
  }
  auto fresh = co_await d_.store.read_new(d_.consumer, outbox_batch);
  if (!fresh) {
    // The outbox was removed (FLUSHALL, a restore): make the group again.
    if (fresh.failure().message.find("NOGROUP") != std::string::npos) group_ready_ = false;
    co_return;
  }
  for (std::size_t i = 0; i < fresh->size(); ++i) co_await d_.store.fan_out((*fresh)[i], now);
  if (now - reclaimed_at_ >= reclaim_every_ms) {
    reclaimed_at_ = now;
    auto orphans = co_await d_.store.reclaim(d_.consumer, reclaim_idle_ms, outbox_batch);
    if (orphans)
      for (std::size_t i = 0; i < orphans->size(); ++i) co_await d_.store.fan_out((*orphans)[i], now);
  }
  int room = d_.config.max_in_flight - in_flight_;
  if (room <= 0) co_return;
  // Long enough for one attempt and its record; a process that dies with a
  // lane leased holds it back for no longer than this.
  core::Millis lease = 2LL * d_.config.timeout_ms + 1'000;
  auto due = co_await d_.store.claim(d_.clock.now(), lease, room);
  if (!due) co_return;
  for (std::size_t i = 0; i < due->size(); ++i) {
    ++in_flight_;
    asio::co_spawn(d_.executor, deliver(std::move((*due)[i])), [this](std::exception_ptr e) {
      --in_flight_;
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (std::exception const& x) {
          spdlog::error("webhooks: a delivery failed: {}", x.what());
        }
      }
    });
  }
}

// One attempt: sign, POST, record. A 2xx answer is delivered; anything
// else (another status, no answer, the guard, TLS) is a failure that makes
// the subscription wait, and past disable_after_s of failing disables it.
asio::awaitable<void> Webhooks::deliver(store::Claimed c) {
  auto started = std::chrono::steady_clock::now();
  auto now = d_.clock.now();
  std::string why;
  auto url = net::parse_outbound_url(c.url, d_.config.allow_http, &why);
  net::OutboundResult r;
  if (!url) {
    r.error = "the URL is not usable: " + why;
  } else {
    auto seconds = now / 1000;
    auto mac = hmac_sha256_hex(c.secret, wh::signed_text(seconds, c.body));
    std::vector<net::Header> headers;
    headers.push_back({"Content-Type", "application/json"});
    headers.push_back({"User-Agent", "Exceed-Webhooks/" + std::string(exceed_version)});
    headers.push_back({"Exceed-Event", c.type});
    headers.push_back({"Exceed-Delivery", c.event_id});
    headers.push_back({"Exceed-Attempt", std::to_string(c.attempt)});
    headers.push_back({"Exceed-Signature", wh::signature_header(seconds, mac)});
    net::OutboundOptions options;
    options.timeout = std::chrono::milliseconds(d_.config.timeout_ms);
    options.allowed_ranges = allowed_;
    options.ca_file = d_.config.ca_file;
    std::string method = "POST";
    r = co_await net::send(*url, std::move(method), std::move(headers), c.body, std::move(options));
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  latency_->observe(std::chrono::duration<double>(elapsed).count());
  store::Attempt a;
  a.webhook_id = c.webhook_id;
  a.lane = c.lane;
  a.event_id = c.event_id;
  a.type = c.type;
  a.attempt = c.attempt;
  a.delivered = r.status >= 200 && r.status < 300;
  a.status = r.status;
  a.error = a.delivered ? std::string() : r.status ? "HTTP " + std::to_string(r.status) : r.error;
  a.ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  a.now = d_.clock.now();
  a.next_try = a.now + wh::retry_delay(backoff_, static_cast<int>(c.failures) + 1, spread());
  ++*(a.delivered ? delivered_ : failed_);
  if (!a.delivered)
    spdlog::warn("webhooks: {} to {} failed (attempt {}): {}", c.event_id, c.webhook_id, c.attempt, a.error);
  auto since = co_await d_.store.finish(a);
  if (!since || !*since || !wh::give_up(**since, a.now, d_.config.disable_after_s * 1000LL)) co_return;
  std::vector<std::pair<std::string, std::string>> off{
      {"status", "disabled"},
      {"disabled_at", std::to_string(a.now)},
      {"disabled_reason", wh::disabled_reason(**since, a.now, a.error)}};
  auto done = co_await d_.store.update(c.webhook_id, off, a.now);
  if (!done) co_return;
  ++*disabled_;
  spdlog::warn("webhooks: {} disabled: {}", c.webhook_id, done->disabled_reason);
  std::erase_if(active_, [&](auto const& w) { return w.id == c.webhook_id; });
}

// ------------------------------------------------------------------ HTTP

asio::awaitable<std::optional<std::string>> Webhooks::url_refusal(std::string url) {
  if (url.empty() || url.size() > max_url_chars)
    co_return std::string("url must be an https URL of at most 2000 characters");
  std::string why;
  auto parsed = net::parse_outbound_url(url, d_.config.allow_http, &why);
  if (!parsed) co_return "url " + why;
  auto addresses = co_await net::resolve_allowed(*parsed, allowed_, &why);
  if (addresses.empty())
    co_return "url: " + why +
        ": refused (the server does not call its own machine or private networks; an operator can allow a range "
        "with webhooks.allowed_ranges)";
  co_return std::nullopt;
}

json::object Webhooks::to_json(store::Webhook const& w) const {
  json::object j;
  j["id"] = w.id;
  j["url"] = w.url;
  json::array events;
  for (auto const& e : w.events) events.emplace_back(e);
  j["events"] = std::move(events);
  j["description"] = w.description;
  j["status"] = w.status;
  j["created_at"] = w.created_at;
  j["created_by"] = w.created_by;
  j["failures"] = w.failures;
  j["failing_since"] = time_or_null(w.failing_since);
  j["retry_at"] = time_or_null(w.retry_at);
  j["last_success_at"] = time_or_null(w.last_success_at);
  j["last_failure_at"] = time_or_null(w.last_failure_at);
  j["last_error"] = text_or_null(w.last_error);
  j["disabled_at"] = time_or_null(w.disabled_at);
  j["disabled_reason"] = text_or_null(w.disabled_reason);
  return j;
}

asio::awaitable<net::HttpResponse> Webhooks::http(Actor actor, std::string method, std::string rest, Query query,
                                                  json::object body) {
  if (actor.role != core::Role::supervisor)
    co_return error_response(error::forbidden, "webhooks are managed by supervisors");
  if (rest.empty() || rest == "/") {
    if (method == "POST") co_return co_await create(actor, std::move(body));
    if (method != "GET") co_return error_response(error::bad_request, "use GET or POST");
    auto all = co_await d_.store.list();
    if (!all) co_return from_failure(all.failure());
    std::sort(all->begin(), all->end(), [](auto const& a, auto const& b) {
      return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    json::array items;
    for (auto const& w : *all) items.push_back(to_json(w));
    json::object out;
    out["items"] = std::move(items);
    out["next_cursor"] = nullptr;
    co_return json_response(200, out);
  }
  auto slash = rest.find('/', 1);
  std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such webhook");
  if (action == "/deliveries") {
    if (method != "GET") co_return error_response(error::bad_request, "use GET");
    auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
    if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
    auto w = co_await d_.store.get(id);
    if (!w) co_return from_failure(w.failure());
    if (!*w) co_return error_response(error::not_found, "no such webhook");
    auto log = co_await d_.store.deliveries(id, static_cast<int>(*limit));
    if (!log) co_return from_failure(log.failure());
    json::array items;
    for (auto const& d : *log) {
      json::object j;
      j["ts"] = d.ts;
      j["event_id"] = d.event_id;
      j["type"] = d.type;
      j["attempt"] = d.attempt;
      j["result"] = d.result;
      j["status"] = d.status ? json::value(d.status) : json::value(nullptr);
      j["error"] = text_or_null(d.error);
      j["duration_ms"] = d.ms;
      items.push_back(std::move(j));
    }
    json::object out;
    out["items"] = std::move(items);
    out["next_cursor"] = nullptr;
    co_return json_response(200, out);
  }
  if (!action.empty()) co_return error_response(error::not_found, "no such endpoint");
  if (method == "GET") {
    auto w = co_await d_.store.get(id);
    if (!w) co_return from_failure(w.failure());
    if (!*w) co_return error_response(error::not_found, "no such webhook");
    co_return json_response(200, to_json(**w));
  }
  if (method == "PATCH") co_return co_await change(id, std::move(body));
  if (method == "DELETE") {
    auto o = co_await d_.store.remove(id);
    if (!o) co_return from_failure(o.failure());
    std::erase_if(active_, [&](auto const& w) { return w.id == id; });
    net::HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    secure_headers(r);
    co_return r;
  }
  co_return error_response(error::bad_request, "use GET, PATCH or DELETE");
}

asio::awaitable<net::HttpResponse> Webhooks::create(Actor const& actor, json::object body) {
  std::string why;
  auto events = events_of(body.if_contains("events"), &why);
  if (!events) co_return error_response(error::bad_request, why);
  auto const* url = body.if_contains("url");
  if (!url || !url->is_string()) co_return error_response(error::bad_request, "url must be a string");
  std::string description = text_of(body, "description");
  if (description.size() > max_description_chars)
    co_return error_response(error::bad_request, "description is longer than 200 characters");
  std::string secret = text_of(body, "secret");
  if (body.contains("secret") && (secret.size() < 16 || secret.size() > 200))
    co_return error_response(error::bad_request, "secret must be 16 to 200 characters (or left out: one is made)");
  if (secret.empty()) secret = random_id("whsec_") + random_id("");
  auto refusal = co_await url_refusal(std::string(url->get_string()));
  if (refusal) co_return error_response(error::bad_request, *refusal);
  auto existing = co_await d_.store.list();
  if (!existing) co_return from_failure(existing.failure());
  if (existing->size() >= static_cast<std::size_t>(d_.config.max_subscriptions))
    co_return error_response(error::conflict, "there are already webhooks.max_subscriptions subscriptions");
  store::Webhook w;
  w.id = random_id("wh_");
  w.url = std::string(url->get_string());
  w.secret = secret;
  w.events = std::move(*events);
  w.description = std::move(description);
  w.status = "active";
  w.created_by = actor.user_id;
  w.created_at = d_.clock.now();
  auto made = co_await d_.store.create(w);
  if (!made) co_return from_failure(made.failure());
  active_.push_back(*made);  // this process carries its events at once; the others within refresh_every_ms
  spdlog::info("webhooks: {} made by {} for {}", made->id, actor.user_id, made->url);
  auto out = to_json(*made);
  out["secret"] = made->secret;  // shown once
  co_return json_response(201, out);
}

asio::awaitable<net::HttpResponse> Webhooks::change(std::string id, json::object body) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::string why;
  if (body.contains("events")) {
    auto events = events_of(body.if_contains("events"), &why);
    if (!events) co_return error_response(error::bad_request, why);
    std::string csv;
    for (auto const& e : *events) csv += (csv.empty() ? "" : ",") + e;
    fields.emplace_back("events", csv);
  }
  if (auto const* url = body.if_contains("url")) {
    if (!url->is_string()) co_return error_response(error::bad_request, "url must be a string");
    auto refusal = co_await url_refusal(std::string(url->get_string()));
    if (refusal) co_return error_response(error::bad_request, *refusal);
    fields.emplace_back("url", std::string(url->get_string()));
  }
  if (auto const* d = body.if_contains("description")) {
    if (!d->is_string() || d->get_string().size() > max_description_chars)
      co_return error_response(error::bad_request, "description must be a string of at most 200 characters");
    fields.emplace_back("description", std::string(d->get_string()));
  }
  auto now = d_.clock.now();
  if (auto const* s = body.if_contains("status")) {
    if (!s->is_string() || (s->get_string() != "active" && s->get_string() != "disabled"))
      co_return error_response(error::bad_request, "status must be active or disabled");
    fields.emplace_back("status", std::string(s->get_string()));
    if (s->get_string() == "disabled") {
      fields.emplace_back("disabled_at", std::to_string(now));
      fields.emplace_back("disabled_reason", "disabled by a supervisor");
    }
  }
  if (fields.empty()) co_return error_response(error::bad_request, "nothing to change (url, events, description, status)");
  auto w = co_await d_.store.update(id, fields, now);
  if (!w) co_return from_failure(w.failure());
  std::erase_if(active_, [&](auto const& a) { return a.id == w->id; });
  if (w->status == "active") active_.push_back(*w);
  co_return json_response(200, to_json(*w));
}

}  // namespace exceed::app
