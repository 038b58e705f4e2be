// Saved replies (canned responses) over REST: a team's shared replies,
// managed by supervisors, and each agent's own; searched by shortcut, title
// and text, most used first; and used: the console asks for a reply filled
// from the conversation (the customer's and the agent's names, the
// conversation, the page and cart the visit gave it) and puts the text in
// the reply box, where the agent reads it before sending.
//
//   GET    /api/v1/replies?q=&scope=team|personal
//   POST   /api/v1/replies                {scope, team?, shortcut, title?, text}
//   GET    /api/v1/replies/{id}
//   PATCH  /api/v1/replies/{id}           {shortcut?, title?, text?}
//   DELETE /api/v1/replies/{id}
//   POST   /api/v1/replies/{id}/use       {conversation_id?}  -> {reply, text, missing}
#pragma once

#include "app/http_util.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "store/replies.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>

namespace exceed::app {

class Replies {
 public:
  struct Deps {
    store::ReplyStore& store;
    Visibility& visibility;
    core::Clock const& clock;
  };
  explicit Replies(Deps deps) : d_(deps) {}

  // /api/v1/replies[/...]: `rest` is what follows /api/v1/replies.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query,
                                                 boost::json::object body);

  static boost::json::object to_json(store::ReplyRecord const& r, Actor const& viewer);

 private:
  boost::asio::awaitable<net::HttpResponse> list(Actor const& actor, Query const& query);
  boost::asio::awaitable<net::HttpResponse> create(Actor const& actor, boost::json::object const& body);
  boost::asio::awaitable<net::HttpResponse> change(Actor const& actor, store::ReplyRecord rec,
                                                   boost::json::object const& body);
  boost::asio::awaitable<net::HttpResponse> use(Actor const& actor, std::string id, boost::json::object const& body);

  Deps d_;
};

}  // namespace exceed::app
