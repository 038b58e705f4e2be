#include "store/webhooks.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

namespace exceed::store {
namespace asio = boost::asio;
namespace {

std::vector<std::string> split_csv(std::string_view csv) {
  std::vector<std::string> out;
  while (!csv.empty()) {
    auto comma = csv.find(',');
    if (auto item = csv.substr(0, comma); !item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  return out;
}

std::string join_csv(std::vector<std::string> const& items) {
  std::string out;
  for (auto const& i : items) {
    if (!out.empty()) out += ',';
    out += i;
  }
  return out;
}

// A subscription record (HGETALL) as its type; nullopt for an empty reply.
Result<std::optional<Webhook>> webhook_of(Reply const& reply, std::string_view what) {
  auto fields = Fields::read(reply, what);
  if (!fields) return fields.failure();
  if (fields->empty()) return std::optional<Webhook>{};
  auto const& f = *fields;
  if (!f.has("id") || !f.has("url")) return Failure::protocol(std::string(what) + ": not a webhook record");
  Webhook w;
  w.id = f.text("id");
  w.url = f.text("url");
  w.secret = f.text("secret");
  w.events = split_csv(f.text("events"));
  w.description = f.text("description");
  w.status = f.text("status");
  w.created_by = f.text("created_by");
  w.created_at = f.integer("created_at");
  w.failures = f.integer("failures");
  w.failing_since = f.maybe_integer("failing_since");
  w.retry_at = f.maybe_integer("retry_at");
  w.last_success_at = f.maybe_integer("last_success_at");
  w.last_failure_at = f.maybe_integer("last_failure_at");
  w.last_error = f.text("last_error");
  w.disabled_at = f.maybe_integer("disabled_at");
  w.disabled_reason = f.text("disabled_reason");
  return std::optional<Webhook>(std::move(w));
}

Result<Webhook> written(Result<Reply> r, std::string_view what) {
  if (!r) return r.failure();
  auto w = webhook_of(*r, what);
  if (!w) return w.failure();
  if (!*w) return Failure::protocol(std::string(what) + ": no record in the reply");
  return std::move(**w);
}

// Stream entries ([[id, [field, value, ...]], ...]) as outbox events; a nil
// entry (deleted while pending) is skipped.
Result<std::vector<OutboxEvent>> outbox_events(Reply const& entries, std::string_view what) {
  std::vector<OutboxEvent> out;
  Row row(entries, what);
  while (row.ok() && !row.at_end()) {
    auto const& entry = row.nested();
    if (entry.elements.empty()) continue;
    Row e(entry, what);
    OutboxEvent ev;
    ev.entry_id = e.text();
    auto fields = Fields::read(e.nested(), what);
    if (!e.ok()) return e.failure();
    if (!fields) return fields.failure();
    ev.event_id = fields->text("id");
    ev.type = fields->text("type");
    ev.lane = fields->text("lane");
    ev.body = fields->text("body");
    out.push_back(std::move(ev));
  }
  if (!row.ok()) return row.failure();
  return out;
}

}  // namespace

asio::awaitable<Result<Webhook>> WebhookStore::create(Webhook const& w) {
  std::vector<std::string> args{w.id, "1", std::to_string(w.created_at),
                                "id", w.id, "url", w.url, "secret", w.secret, "events", join_csv(w.events),
                                "description", w.description, "status", w.status, "created_by", w.created_by,
                                "created_at", std::to_string(w.created_at), "failures", "0"};
  co_return written(co_await db_.run(db_.scripts().webhook_save, std::move(args)), "webhook_save");
}

asio::awaitable<Result<Webhook>> WebhookStore::update(std::string const& id,
                                                      std::vector<std::pair<std::string, std::string>> const& fields,
                                                      core::Millis now) {
  std::vector<std::string> args{id, "0", std::to_string(now)};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    args.push_back(fields[i].first);
    args.push_back(fields[i].second);
  }
  co_return written(co_await db_.run(db_.scripts().webhook_save, std::move(args)), "webhook_save");
}

asio::awaitable<Result<std::optional<Webhook>>> WebhookStore::get(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().webhook(id));
  if (!r) co_return r.failure();
  co_return webhook_of(*r, "webhook");
}

asio::awaitable<Result<std::vector<Webhook>>> WebhookStore::list() {
  auto ids = co_await db_.cmd("SMEMBERS", db_.keys().webhooks());
  if (!ids) co_return ids.failure();
  Row row(*ids, "webhooks");
  std::vector<std::string> names;
  while (row.ok() && !row.at_end()) names.push_back(row.text());
  if (!row.ok()) co_return row.failure();
  std::vector<Webhook> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto w = co_await get(names[i]);
    if (!w) co_return w.failure();
    if (*w) out.push_back(std::move(**w));
  }
  co_return out;
}

asio::awaitable<Result<Done>> WebhookStore::remove(std::string const& id) {
  auto r = co_await db_.call(db_.scripts().webhook_delete, id);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<Done>> WebhookStore::ensure_group() {
  auto r = co_await db_.cmd("XGROUP", "CREATE", db_.keys().webhook_outbox(), group, "0", "MKSTREAM");
  if (!r && !(r.failure().kind == Failure::Kind::protocol && r.failure().message.find("BUSYGROUP") != std::string::npos))
    co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<Done>> WebhookStore::enqueue(std::string const& event_id, std::string const& type,
                                                    std::string const& lane, std::string const& body) {
  auto r = co_await db_.cmd("XADD", db_.keys().webhook_outbox(), "*", "id", event_id, "type", type, "lane", lane,
                            "body", body);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::vector<OutboxEvent>>> WebhookStore::read_new(std::string const& consumer, int count) {
  auto r = co_await db_.cmd("XREADGROUP", "GROUP", group, consumer, "COUNT", std::to_string(count), "STREAMS",
                            db_.keys().webhook_outbox(), ">");
  if (!r) co_return r.failure();
  if (r->is_nil()) co_return std::vector<OutboxEvent>{};
  // [[stream, entries]]
  Row streams(*r, "outbox read");
  auto const& stream = streams.nested();
  if (!streams.ok()) co_return streams.failure();
  Row s(stream, "outbox read");
  s.text();
  auto const& entries = s.nested();
  if (!s.ok()) co_return s.failure();
  co_return outbox_events(entries, "outbox read");
}

asio::awaitable<Result<std::vector<OutboxEvent>>> WebhookStore::reclaim(std::string const& consumer,
                                                                        std::int64_t idle_ms, int count) {
  auto r = co_await db_.cmd("XAUTOCLAIM", db_.keys().webhook_outbox(), group, consumer, std::to_string(idle_ms), "0-0",
                            "COUNT", std::to_string(count));
  if (!r) co_return r.failure();
  // [next cursor, entries, deleted ids]
  Row row(*r, "outbox reclaim");
  row.text();
  auto const& entries = row.nested();
  if (!row.ok()) co_return row.failure();
  co_return outbox_events(entries, "outbox reclaim");
}

asio::awaitable<Result<std::int64_t>> WebhookStore::fan_out(OutboxEvent const& e, core::Millis now) {
  auto r = co_await db_.call(db_.scripts().webhook_fanout, group, e.entry_id, e.event_id, e.type, e.lane, e.body,
                             std::to_string(now));
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("webhook_fanout: expected an integer");
  co_return static_cast<std::int64_t>(r->integer);
}

asio::awaitable<Result<std::vector<Claimed>>> WebhookStore::claim(core::Millis now, core::Millis lease, int max) {
  auto r = co_await db_.call(db_.scripts().webhook_claim, std::to_string(now), std::to_string(lease),
                             std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "webhook_claim");
  std::vector<Claimed> out;
  while (row.ok() && !row.at_end()) {
    Claimed c;
    c.webhook_id = row.text();
    c.lane = row.text();
    auto head = row.text();
    c.attempt = row.integer();
    c.url = row.text();
    c.secret = row.text();
    c.failures = row.integer();
    // "<event id>\n<type>\n<body>"
    auto nl1 = head.find('\n');
    auto nl2 = nl1 == std::string::npos ? nl1 : head.find('\n', nl1 + 1);
    if (nl2 == std::string::npos) co_return Failure::protocol("webhook_claim: a lane item without its header");
    c.event_id = head.substr(0, nl1);
    c.type = head.substr(nl1 + 1, nl2 - nl1 - 1);
    c.body = head.substr(nl2 + 1);
    out.push_back(std::move(c));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<std::optional<core::Millis>>> WebhookStore::finish(Attempt const& a) {
  auto r = co_await db_.call(db_.scripts().webhook_done, a.webhook_id, a.lane, a.event_id, a.delivered ? "1" : "0",
                             std::to_string(a.now), std::to_string(a.next_try), a.type, std::to_string(a.attempt),
                             std::to_string(a.status), a.error, std::to_string(a.ms));
  if (!r) co_return r.failure();
  Row row(*r, "webhook_done");
  auto since = row.integer();
  if (!row.ok()) co_return row.failure();
  co_return since > 0 ? std::optional<core::Millis>(since) : std::nullopt;
}

asio::awaitable<Result<std::vector<DeliveryLogEntry>>> WebhookStore::deliveries(std::string const& id, int limit) {
  auto r = co_await db_.cmd("XREVRANGE", db_.keys().webhook_log(id), "+", "-", "COUNT", std::to_string(limit));
  if (!r) co_return r.failure();
  Row row(*r, "webhook log");
  std::vector<DeliveryLogEntry> out;
  while (row.ok() && !row.at_end()) {
    Row e(row.nested(), "webhook log");
    e.text();
    auto f = Fields::read(e.nested(), "webhook log");
    if (!e.ok()) co_return e.failure();
    if (!f) co_return f.failure();
    DeliveryLogEntry d;
    d.ts = f->integer("ts");
    d.event_id = f->text("event");
    d.type = f->text("type");
    d.lane = f->text("lane");
    d.attempt = f->integer("attempt");
    d.result = f->text("result");
    d.status = static_cast<int>(f->integer("status"));
    d.error = f->text("error");
    d.ms = f->integer("ms");
    out.push_back(std::move(d));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<WebhookStore::Backlog>> WebhookStore::backlog() {
  auto outbox = co_await db_.cmd("XLEN", db_.keys().webhook_outbox());
  if (!outbox) co_return outbox.failure();
  auto due = co_await db_.cmd("ZCARD", db_.keys().webhooks_due());
  if (!due) co_return due.failure();
  if (outbox->kind != Reply::Kind::integer || due->kind != Reply::Kind::integer)
    co_return Failure::protocol("webhook backlog: expected integers");
  co_return Backlog{outbox->integer, due->integer};
}

}  // namespace exceed::store
