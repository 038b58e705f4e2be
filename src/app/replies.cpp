#include "app/replies.hpp"

#include "app/auth.hpp"
#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdio>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

namespace {

std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// A string field of the body: absent (nullopt), or its text; not a string: `bad`.
std::optional<std::string> text_field(json::object const& body, std::string_view key, bool& bad) {
  auto const* v = body.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    bad = true;
    return std::nullopt;
  }
  return std::string(v->get_string());
}

// Why a reply as given cannot be saved, as the HTTP answer; nullopt when it can.
std::optional<net::HttpResponse> refusal_of(core::SavedReply const& r) {
  if (!core::valid_shortcut(r.shortcut))
    return error_response(error::bad_request, "shortcut must be 1..32 of a-z, 0-9, '-' and '_' (without the /)");
  if (r.text.empty()) return error_response(error::bad_request, "a saved reply needs a text");
  if (r.text.size() > core::max_reply_text_bytes) return error_response(error::too_large, "text is longer than 8000 bytes");
  if (characters(r.title) > core::max_reply_title_chars)
    return error_response(error::too_large, "title is longer than 100 characters");
  if (auto why = core::template_problem(r.text); !why.empty()) return error_response(error::bad_request, why);
  return std::nullopt;
}

std::string number_text(double d) {
  char buf[32];
  if (d == static_cast<double>(static_cast<long long>(d))) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
  else std::snprintf(buf, sizeof buf, "%.2f", d);
  return buf;
}

// The values a reply's placeholders take in a conversation.
std::map<std::string, std::string, std::less<>> values_of(store::ReplyContext const& c, std::string const& conversation) {
  std::map<std::string, std::string, std::less<>> v{{"agent.name", c.agent_name}};
  if (conversation.empty()) return v;
  v["conversation.id"] = conversation;
  v["customer.name"] = c.customer_name == "Visitor" ? std::string() : c.customer_name;
  std::error_code ec;
  auto ctx = json::parse(c.context_json, ec);
  if (ec || !ctx.is_object()) return v;
  auto const& o = ctx.get_object();
  if (auto const* page = o.if_contains("page_url"); page && page->is_string()) v["page.url"] = page->get_string();
  if (auto const* cart = o.if_contains("cart"); cart && cart->is_object()) {
    auto const& co = cart->get_object();
    if (auto const* n = co.if_contains("items"); n && n->is_number()) v["cart.items"] = number_text(n->to_number<double>());
    if (auto const* n = co.if_contains("value"); n && n->is_number()) v["cart.value"] = number_text(n->to_number<double>());
    if (auto const* n = co.if_contains("currency"); n && n->is_string()) v["cart.currency"] = n->get_string();
  }
  return v;
}

// The replies matching `q`, best first: rank, then most used, then shortcut.
json::array ranked(std::vector<store::ReplyRecord> const& all, std::string const& q, std::string const& scope,
                   Actor const& actor) {
  std::vector<std::pair<int, store::ReplyRecord const*>> hits;
  for (auto const& r : all) {
    if (!core::may_see(actor, r.reply)) continue;
    if (!scope.empty() && core::to_string(r.reply.scope) != scope) continue;
    if (int rank = core::search_rank(r.reply, q); rank > 0) hits.emplace_back(rank, &r);
  }
  std::sort(hits.begin(), hits.end(), [](auto const& a, auto const& b) {
    if (a.first != b.first) return a.first > b.first;
    if (a.second->reply.uses != b.second->reply.uses) return a.second->reply.uses > b.second->reply.uses;
    return a.second->reply.shortcut != b.second->reply.shortcut ? a.second->reply.shortcut < b.second->reply.shortcut
                                                                : a.second->reply.id < b.second->reply.id;
  });
  json::array items;
  for (auto const& [rank, r] : hits) items.push_back(Replies::to_json(*r, actor));
  return items;
}

}  // namespace

json::object Replies::to_json(store::ReplyRecord const& rec, Actor const& viewer) {
  auto const& r = rec.reply;
  json::object o;
  o["id"] = r.id;
  o["scope"] = core::to_string(r.scope);
  o["team"] = r.team.empty() ? json::value(nullptr) : json::value(r.team);
  o["owner_id"] = r.owner.empty() ? json::value(nullptr) : json::value(r.owner);
  o["shortcut"] = r.shortcut;
  o["title"] = r.title;
  o["text"] = r.text;
  o["uses"] = r.uses;
  o["created_at"] = rec.created_at;
  o["updated_at"] = rec.updated_at;
  o["created_by"] = rec.created_by;
  o["editable"] = core::may_change(viewer, r);
  return o;
}

asio::awaitable<net::HttpResponse> Replies::http(Actor actor, std::string method, std::string rest, Query query,
                                                 json::object body) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "saved replies are for staff");
  if (rest.empty() || rest == "/") {
    if (method == "GET") co_return co_await list(actor, query);
    if (method == "POST") co_return co_await create(actor, body);
    co_return error_response(error::bad_request, "use GET or POST");
  }
  auto slash = rest.find('/', 1);
  std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such saved reply");
  if (action == "/use") {
    if (method != "POST") co_return error_response(error::bad_request, "use POST");
    co_return co_await use(actor, id, body);
  }
  if (!action.empty()) co_return error_response(error::not_found, "no such endpoint");
  auto rec = co_await d_.store.get(id);
  if (!rec) co_return from_failure(rec.failure());
  // Another agent's own reply is as absent as one that never was.
  if (!*rec || !core::may_see(actor, (*rec)->reply)) co_return error_response(error::not_found, "no such saved reply");
  if (method == "GET") co_return json_response(200, to_json(**rec, actor));
  if (method != "PATCH" && method != "DELETE") co_return error_response(error::bad_request, "use GET, PATCH or DELETE");
  if (!core::may_change(actor, (*rec)->reply))
    co_return error_response(error::forbidden, "a team's saved replies are changed by supervisors");
  if (method == "PATCH") co_return co_await change(actor, std::move(**rec), body);
  auto gone = co_await d_.store.remove((*rec)->reply);
  if (!gone) co_return from_failure(gone.failure());
  json::object out;
  out["id"] = id;
  out["deleted"] = true;
  co_return json_response(200, out);
}

asio::awaitable<net::HttpResponse> Replies::list(Actor const& actor, Query const& query) {
  auto q = query_value(query, "q");
  auto scope = query_value(query, "scope");
  if (!scope.empty() && !core::parse_reply_scope(scope))
    co_return error_response(error::bad_request, "scope must be team or personal");
  if (characters(q) > 200) co_return error_response(error::bad_request, "q is longer than 200 characters");
  std::vector<std::string> teams;
  if (actor.role == core::Role::supervisor) {
    auto all = co_await d_.store.teams();
    if (!all) co_return from_failure(all.failure());
    teams = std::move(*all);
  } else {
    teams = core::split_teams(actor.teams_csv);
  }
  auto records = co_await d_.store.list(teams, actor.user_id);
  if (!records) co_return from_failure(records.failure());
  json::object out;
  out["items"] = ranked(*records, q, scope, actor);
  out["next_cursor"] = nullptr;
  co_return json_response(200, out);
}

asio::awaitable<net::HttpResponse> Replies::create(Actor const& actor, json::object const& body) {
  bool bad = false;
  auto scope_text = text_field(body, "scope", bad);
  auto scope = core::parse_reply_scope(scope_text.value_or(""));
  core::SavedReply r;
  r.shortcut = text_field(body, "shortcut", bad).value_or("");
  r.title = text_field(body, "title", bad).value_or("");
  r.text = text_field(body, "text", bad).value_or("");
  auto team = text_field(body, "team", bad).value_or("");
  if (bad || !scope) co_return error_response(error::bad_request, "scope (team or personal), shortcut and text are strings");
  if (auto refused = refusal_of(r)) co_return std::move(*refused);
  r.scope = *scope;
  if (r.scope == core::ReplyScope::team) {
    if (team.empty() || team.size() > protocol::max_id_chars)
      co_return error_response(error::bad_request, "a team's reply names its team");
    r.team = team;
  } else {
    r.owner = actor.user_id;
  }
  if (!core::may_create(actor, r.scope, r.team))
    co_return error_response(error::forbidden, "a team's saved replies are made by supervisors");
  r.id = random_id("r_");
  auto saved = co_await d_.store.save(r, actor.user_id, d_.clock.now(), true);
  if (!saved) co_return from_failure(saved.failure());
  co_return json_response(201, to_json(*saved, actor));
}

asio::awaitable<net::HttpResponse> Replies::change(Actor const& actor, store::ReplyRecord rec, json::object const& body) {
  bool bad = false;
  auto& r = rec.reply;
  if (auto v = text_field(body, "shortcut", bad)) r.shortcut = *v;
  if (auto v = text_field(body, "title", bad)) r.title = *v;
  if (auto v = text_field(body, "text", bad)) r.text = *v;
  if (bad) co_return error_response(error::bad_request, "shortcut, title and text are strings");
  if (auto refused = refusal_of(r)) co_return std::move(*refused);
  auto saved = co_await d_.store.save(r, actor.user_id, d_.clock.now(), false);
  if (!saved) co_return from_failure(saved.failure());
  co_return json_response(200, to_json(*saved, actor));
}

// Counts the use and fills the reply from the conversation the caller may
// see; what could not be filled is named, never guessed.
asio::awaitable<net::HttpResponse> Replies::use(Actor const& actor, std::string id, json::object const& body) {
  bool bad = false;
  auto conversation = text_field(body, "conversation_id", bad).value_or("");
  if (bad || conversation.size() > protocol::max_id_chars)
    co_return error_response(error::bad_request, "conversation_id must be a conversation's id");
  auto rec = co_await d_.store.get(id);
  if (!rec) co_return from_failure(rec.failure());
  if (!*rec || !core::may_see(actor, (*rec)->reply)) co_return error_response(error::not_found, "no such saved reply");
  if (!conversation.empty()) {
    auto seen = co_await d_.visibility.conversation(actor, conversation);
    if (!seen) co_return from_failure(seen.failure());
  }
  auto context = co_await d_.store.context(conversation, actor.user_id);
  if (!context) co_return from_failure(context.failure());
  auto used = co_await d_.store.use(id);
  if (!used) co_return from_failure(used.failure());
  auto filled = core::fill(used->reply.text, values_of(*context, conversation));
  json::array missing;
  for (std::size_t i = 0; i < filled.missing.size(); ++i) missing.push_back(json::value(filled.missing[i]));
  json::object out;
  out["reply"] = to_json(*used, actor);
  out["text"] = filled.text;
  out["missing"] = std::move(missing);
  co_return json_response(200, out);
}

}  // namespace exceed::app
