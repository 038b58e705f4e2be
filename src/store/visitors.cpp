#include "store/visitors.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

#include <algorithm>
#include <charconv>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

std::string number_text(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc{} ? std::string(buf, end) : std::string("0");
}

double number_of(std::string_view s) {
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

std::string flag(bool b) { return b ? "1" : "0"; }

// A visit hash (or a stream entry holding one) as its type.
Result<core::Visit> visit_of(Fields const& f, std::string_view what) {
  if (!f.has("visitor_id") || !f.maybe_integer("rev"))
    return Failure::protocol(std::string(what) + ": not a visit record");
  core::Visit v;
  v.visitor_id = f.text("visitor_id");
  v.name = f.text("name");
  v.identified = f.text("identified") == "1";
  v.visit_id = f.text("visit_id");
  v.page_url = f.text("page_url");
  v.page_title = f.text("page_title");
  v.referrer = f.text("referrer");
  v.visit_started_at = f.integer("visit_started_at");
  v.page_started_at = f.integer("page_started_at");
  v.last_seen = f.integer("last_seen");
  v.pages_seen = f.integer("pages_seen");
  if (!f.text("cart_currency").empty())
    v.cart = core::Cart{f.integer("cart_items"), number_of(f.text("cart_value")), std::string(f.text("cart_currency"))};
  v.purchased = f.text("purchased") == "1";
  v.returning = f.text("returning") == "1";
  v.in_checkout = f.text("in_checkout") == "1";
  v.connections = static_cast<int>(f.integer("conns"));
  v.left_at = f.integer("left_at");
  v.invitation_id = f.text("invitation_id");
  v.invitation_rule = f.text("invitation_rule");
  v.invitation_state = f.text("invitation_state");
  v.invitation_text = f.text("invitation_text");
  v.invitation_team = f.text("invitation_team");
  v.invitation_from_id = f.text("invitation_from_id");
  v.invitation_from_name = f.text("invitation_from_name");
  v.invitations = f.integer("invitations");
  v.invited_at = f.integer("invited_at");
  v.dismissed = f.text("dismissed") == "1";
  v.conversation_id = f.text("conversation_id");
  v.expires_at = f.integer("expires_at");
  v.rev = f.integer("rev");
  return v;
}

Result<core::Visit> visit_of(Reply const& reply, std::string_view what) {
  auto fields = Fields::read(reply, what);
  if (!fields) return fields.failure();
  return visit_of(*fields, what);
}

// Stream entries [[id, [field, value, ...]], ...] as changes.
Result<VisitChanges> changes_of(Reply const& entries, VisitChanges out) {
  Row row(entries, "visit changes");
  while (row.ok() && !row.at_end()) {
    Row entry(row.nested(), "visit change");
    auto id = entry.text();
    auto const& body = entry.nested();
    if (!entry.ok()) return entry.failure();
    auto fields = Fields::read(body, "visit change");
    if (!fields) return fields.failure();
    VisitChange c;
    if (fields->text("gone") == "1") {
      c.gone = std::string(fields->text("visitor_id"));
    } else {
      auto v = visit_of(*fields, "visit change");
      if (!v) return v.failure();
      c.visit = std::move(*v);
    }
    out.changes.push_back(std::move(c));
    out.last_id = std::move(id);
  }
  if (!row.ok()) return row.failure();
  return out;
}

// (Plain functions for the loops: g++ 12 mishandles range-for over class
// types inside coroutines.)
Args keep_live_command(std::string key, std::vector<std::pair<std::string, core::Millis>> const& until) {
  Args args{"ZADD", std::move(key), "XX", "GT"};
  args.reserve(4 + 2 * until.size());
  for (auto const& [id, at] : until) {
    args.push_back(std::to_string(at));
    args.push_back(id);
  }
  return args;
}

std::map<std::string, std::int64_t> counts_of(Fields const& fields) {
  std::map<std::string, std::int64_t> out;
  for (auto const& [k, v] : fields.pairs()) out[k] = parse_integer(v).value_or(0);
  return out;
}

}  // namespace

std::vector<std::string> visit_fields(core::Visit const& v) {
  std::vector<std::string> f{"name",           v.name,
                             "identified",     flag(v.identified),
                             "visit_id",       v.visit_id,
                             "page_url",       v.page_url,
                             "page_title",     v.page_title,
                             "referrer",       v.referrer,
                             "visit_started_at", std::to_string(v.visit_started_at),
                             "page_started_at", std::to_string(v.page_started_at),
                             "last_seen",      std::to_string(v.last_seen),
                             "pages_seen",     std::to_string(v.pages_seen),
                             "cart_items",     v.cart ? std::to_string(v.cart->items) : std::string(),
                             "cart_value",     v.cart ? number_text(v.cart->value) : std::string(),
                             "cart_currency",  v.cart ? v.cart->currency : std::string(),
                             "purchased",      flag(v.purchased),
                             "returning",      flag(v.returning),
                             "in_checkout",    flag(v.in_checkout),
                             "conns",          std::to_string(v.connections),
                             "left_at",        std::to_string(v.left_at),
                             "invitation_id",  v.invitation_id,
                             "invitation_rule", v.invitation_rule,
                             "invitation_state", v.invitation_state,
                             "invitation_text", v.invitation_text,
                             "invitation_team", v.invitation_team,
                             "invitation_from_id", v.invitation_from_id,
                             "invitation_from_name", v.invitation_from_name,
                             "invitations",    std::to_string(v.invitations),
                             "invited_at",     std::to_string(v.invited_at),
                             "dismissed",      flag(v.dismissed),
                             "conversation_id", v.conversation_id};
  return f;
}

asio::awaitable<Result<std::optional<core::Visit>>> VisitorStore::get(std::string const& visitor_id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().visit(visitor_id));
  if (!r) co_return r.failure();
  auto fields = Fields::read(*r, "visit");
  if (!fields) co_return fields.failure();
  if (fields->empty()) co_return std::optional<core::Visit>{};
  auto v = visit_of(*fields, "visit");
  if (!v) co_return v.failure();
  co_return std::optional<core::Visit>(std::move(*v));
}

asio::awaitable<Result<core::Visit>> VisitorStore::write(core::Visit const& next, std::int64_t expected_rev,
                                                        VisitWrite const& how) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.visit(next.visitor_id), k.visits_live(), k.visit_changes(),
                                k.invitation_counts(how.day)};
  std::vector<std::string> args{next.visitor_id,
                                std::to_string(expected_rev),
                                std::to_string(next.expires_at),
                                std::to_string(std::max<core::Millis>(1000, how.retention)),
                                std::to_string(how.stream_keep),
                                how.counted};
  auto fields = visit_fields(next);
  args.insert(args.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
  auto r = co_await db_.run_keys(db_.scripts().visit_write, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  co_return visit_of(*r, "visit_write");
}

asio::awaitable<Result<std::vector<std::string>>> VisitorStore::expire(core::Millis now, int max,
                                                                      core::Millis stream_keep) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.visits_live(), k.visit_changes()};
  std::vector<std::string> args{k.prefix(), std::to_string(now), std::to_string(max), std::to_string(stream_keep)};
  auto r = co_await db_.run_keys(db_.scripts().visits_expire, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  Row row(*r, "visits_expire");
  std::vector<std::string> ids;
  while (row.ok() && !row.at_end()) ids.push_back(row.text());
  if (!row.ok()) co_return row.failure();
  co_return ids;
}

asio::awaitable<Result<VisitChanges>> VisitorStore::live(int max) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.visits_live(), k.visit_changes()};
  std::vector<std::string> args{k.prefix(), std::to_string(max)};
  auto r = co_await db_.run_keys(db_.scripts().visits_live, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  Row row(*r, "visits_live");
  VisitChanges out;
  out.last_id = row.text();
  while (row.ok() && !row.at_end()) {
    auto const& rec = row.nested();
    if (!row.ok()) break;
    auto v = visit_of(rec, "visits_live");
    if (!v) co_return v.failure();
    out.changes.push_back(VisitChange{std::move(*v), {}});
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<VisitChanges>> VisitorStore::changes(std::string const& after_id, int max) {
  auto r = co_await db_.cmd("XREAD", "COUNT", std::to_string(max), "STREAMS", db_.keys().visit_changes(), after_id);
  if (!r) co_return r.failure();
  VisitChanges none;
  none.last_id = after_id;
  if (r->is_nil()) co_return none;  // nothing new
  Row streams(*r, "XREAD visit changes");
  Row stream(streams.nested(), "XREAD visit changes");
  stream.text();
  auto const& entries = stream.nested();
  if (!streams.ok()) co_return streams.failure();
  if (!stream.ok()) co_return stream.failure();
  co_return changes_of(entries, std::move(none));
}

asio::awaitable<Result<Done>> VisitorStore::keep_live(std::vector<std::pair<std::string, core::Millis>> const& until) {
  if (until.empty()) co_return Done{};
  auto r = co_await db_.exec(keep_live_command(db_.keys().visits_live(), until));
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<bool>> VisitorStore::verified(std::string const& visitor_id) {
  auto r = co_await db_.cmd("HGET", db_.keys().visitor(visitor_id), "user_id");
  if (!r) co_return r.failure();
  co_return !r->is_nil() && !r->str.empty();
}

asio::awaitable<Result<bool>> VisitorStore::team_online(std::string const& team) {
  std::vector<std::string> keys{db_.keys().team_agents(team)};
  std::vector<std::string> args{db_.keys().prefix()};
  auto r = co_await db_.run_keys(db_.scripts().team_online, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("team_online: expected an integer");
  co_return r->integer == 1;
}

asio::awaitable<Result<std::map<std::string, std::int64_t>>> VisitorStore::invitation_counts(std::string const& day) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().invitation_counts(day));
  if (!r) co_return r.failure();
  auto fields = Fields::read(*r, "invitation counts");
  if (!fields) co_return fields.failure();
  co_return counts_of(*fields);
}

}  // namespace exceed::store
