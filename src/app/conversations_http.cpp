// The conversations over HTTP: a page of them newest first, one record, and
// one's messages, each only as its caller may see it (the store's access
// rule: a customer their own, an agent their team's, a supervisor all).
#include "app/conversations.hpp"
#include "app/wire.hpp"

namespace exceed::app {
namespace json = boost::json;
using protocol::error;

boost::asio::awaitable<net::HttpResponse> Conversations::http(Actor actor, std::string method, std::string rest, Query query) {
  if (method != "GET") co_return error_response(error::bad_request, "use GET");
  if (rest.empty() || rest == "/") co_return co_await list(actor, query);
  std::string_view tail = std::string_view(rest).substr(1);
  auto slash = tail.find('/');
  std::string id(tail.substr(0, slash));
  std::string_view sub = slash == std::string_view::npos ? std::string_view() : tail.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such conversation");
  if (sub == "/messages") co_return co_await messages(actor, id, query);
  if (!sub.empty()) co_return error_response(error::not_found, "no such endpoint");
  auto rec = co_await d_.store.view(id, actor);
  if (!rec) co_return from_failure(rec.failure());
  auto c = conversation_json(*rec);
  if (actor.role == core::Role::customer) c.erase("assessment");  // the team's judgement, not the customer's view
  co_return json_response(200, c);
}

// A page of conversations, newest first. The cursor is the last item's
// (created_at, id); newer ones land before it, so paging is stable while
// chats keep arriving. At most 2,000 are looked at per page (the filters may
// pass few of them); the cursor then says where the next page goes on.
boost::asio::awaitable<net::HttpResponse> Conversations::list(Actor const& actor, Query const& query) {
  auto limit_text = query_value(query, "limit");
  auto limit = parse_number(limit_text.empty() ? "50" : limit_text, 1, 200);
  if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
  std::string max_score = "+inf";
  std::string after_id;
  if (auto cursor = query_value(query, "cursor"); !cursor.empty()) {
    auto colon = cursor.find(':');
    if (colon == std::string::npos || !parse_number(cursor.substr(0, colon), 0, 1LL << 53))
      co_return error_response(error::bad_request, "malformed cursor");
    max_score = cursor.substr(0, colon);
    after_id = cursor.substr(colon + 1);
  }
  std::string const visitor = actor.role == core::Role::customer ? actor.user_id : std::string();
  auto const status = query_value(query, "status"), team = query_value(query, "team");
  auto const agent = query_value(query, "agent_id"), visitor_filter = query_value(query, "visitor_id");
  auto const wanted = static_cast<std::size_t>(*limit);
  constexpr std::size_t scan_budget = 2000;
  constexpr int step = 100;
  json::array items;
  std::optional<std::string> next;
  std::size_t scanned = 0;
  bool exhausted = false;
  while (items.size() < wanted && scanned < scan_budget) {
    auto page = co_await d_.store.newest(visitor, max_score, step);
    if (!page) co_return from_failure(page.failure());
    // Same-score ids come in reverse lexical order: skip up to the cursor.
    std::vector<store::ConversationStore::Listed> fresh;
    for (auto& l : *page)
      if (!(l.created == max_score && !after_id.empty() && l.id >= after_id)) fresh.push_back(std::move(l));
    if (fresh.empty()) {
      exhausted = true;
      break;
    }
    if (fresh.size() > wanted - items.size()) fresh.resize(wanted - items.size());
    std::vector<std::string> ids;
    for (auto const& l : fresh) ids.push_back(l.id);
    auto records = co_await d_.store.views(std::move(ids), actor);
    if (!records) co_return from_failure(records.failure());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      ++scanned;
      max_score = fresh[i].created;
      after_id = fresh[i].id;
      auto const& r = (*records)[i];
      if (!r || (!status.empty() && r->fields.text("status") != status) || (!team.empty() && r->team != team) ||
          (!agent.empty() && r->agent != agent) || (!visitor_filter.empty() && r->visitor != visitor_filter))
        continue;
      items.push_back(conversation_json(*r));
      next = fresh[i].created + ":" + fresh[i].id;
    }
    if (page->size() < static_cast<std::size_t>(step) && items.size() < wanted) {
      exhausted = true;
      break;
    }
  }
  if (exhausted || (items.size() < wanted && scanned < scan_budget)) next.reset();
  else if (scanned >= scan_budget && items.size() < wanted) next = max_score + ":" + after_id;
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = next ? json::value(*next) : json::value(nullptr);
  co_return json_response(200, out);
}

boost::asio::awaitable<net::HttpResponse> Conversations::messages(Actor const& actor, std::string const& id, Query const& query) {
  auto after_text = query_value(query, "after_seq"), limit_text = query_value(query, "limit");
  auto after = parse_number(after_text.empty() ? "0" : after_text, 0, 1LL << 53);
  auto limit = parse_number(limit_text.empty() ? "50" : limit_text, 1, 200);
  if (!after || !limit) co_return error_response(error::bad_request, "after_seq must be >= 0 and limit 1..200");
  // One more than asked: whether there is a next page.
  auto page = co_await d_.store.history(id, actor, *after, static_cast<int>(*limit) + 1);
  if (!page) co_return from_failure(page.failure());
  json::array items;
  std::int64_t last = *after;
  for (std::size_t i = 0; i < page->size() && i < static_cast<std::size_t>(*limit); ++i) {
    last = (*page)[i].seq;
    items.push_back(message_json((*page)[i]));
  }
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = page->size() > static_cast<std::size_t>(*limit) ? json::value(std::to_string(last))
                                                                       : json::value(nullptr);
  co_return json_response(200, out);
}

}  // namespace exceed::app
