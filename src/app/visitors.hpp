// Visitors before they write: the shop's pages report (through the widget,
// and only once the page asked it to) where a visitor is and what is in
// their cart; agents and supervisors watch the live list, and the visitor
// is invited to chat at the right moment, by a configured rule or by an
// agent. A chat started from a visit carries its page, cart and stage.
//
// Each process keeps a copy of the deployment's live list, read on from
// the store's stream of changed visits once a second; a console subscribed
// here is sent, at most once a second, what changed in its filtered view
// (so a visitor moving about reaches it at most once a second, and a
// thousand moving visitors in one frame). The rules run for the visitors
// whose sockets this process holds; the store's compare-and-set makes an
// invitation, an answer and a page each happen once.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/periodic.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "core/hours.hpp"
#include "core/visitors.hpp"
#include "protocol/codec.hpp"
#include "store/visitors.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace exceed::app {

class Client;

class Visitors {
 public:
  struct Deps {
    store::VisitorStore& store;
    Publisher& publisher;
    core::Clock const& clock;
    Config::Visitors const& config;
    Config::Invitations const& invitations;
    std::map<std::string, Config::Team> const& teams;  // business hours
    std::string default_team;
    core::TimeZone const& zone;  // the days invitations are counted on
    boost::asio::any_io_executor executor;
    std::function<bool()> store_up;
    // An invitation was shown, dismissed, accepted or led to a chat; the
    // number of live visitors now (both for /metrics).
    std::function<void(std::string_view event)> counted;
    std::function<void(std::size_t live)> live_count;
  };
  explicit Visitors(Deps deps);
  void start();
  void stop();

  // The widget's frames (customers).
  boost::asio::awaitable<void> page(Client& c, protocol::Request const& req, protocol::VisitorPage const& p);
  boost::asio::awaitable<void> track(Client& c, protocol::Request const& req, protocol::VisitorTrack const& t);
  boost::asio::awaitable<void> answer(Client& c, protocol::Request const& req, protocol::InvitationAnswer const& a);
  // Agents and supervisors: the live list, and inviting one visitor.
  void subscribe(Client& c, protocol::Request const& req, protocol::VisitorsSubscribe const& s);
  void unsubscribe(Client& c, protocol::Request const& req);
  boost::asio::awaitable<void> invite(Client& c, protocol::Request const& req, protocol::VisitorInvite const& i);

  // A chat a visitor starts: their visit's page, cart, pages seen and stage
  // (unless the page named one) join its context, and the invitation it
  // answers with its rule and team. Unchanged without a current visit.
  boost::asio::awaitable<protocol::ConversationStart> enrich(std::string visitor_id, protocol::ConversationStart start);
  // The chat was made: the visit knows it (no more invitations in it), and
  // one made from its invitation is counted.
  boost::asio::awaitable<void> started(std::string visitor_id, std::string conversation_id,
                                       std::optional<std::string> invitation_id);
  // A session closed.
  void closed(Client& c);

  // GET /api/v1/reports/invitations?from=&to= (days, YYYY-MM-DD).
  boost::asio::awaitable<net::HttpResponse> report(Actor const& actor, Query const& query);

  static boost::json::object to_json(core::Visit const& v);
  static boost::json::object invitation_json(core::Visit const& v);

 private:
  struct Tab {
    std::string visitor_id;
    bool counted = false;  // its socket is counted in the visit
    bool identified = false;
  };
  struct Local {
    int tabs = 0;
    core::PageBudget budget;
    core::Millis empty_since = 0;
  };
  struct Subscriber {
    std::weak_ptr<Client> client;
    std::uint64_t session = 0;
    core::VisitorFilter filter;
    std::size_t limit = 200;
    std::unordered_map<std::string, std::int64_t> held;
    std::size_t held_total = 0;
    bool full = true;  // sends the whole view next
  };

  // A visitor a rule invites now, the rule, and the team that answers.
  struct Due {
    core::Visit visit;
    std::size_t rule = 0;
    std::string team;
  };

  boost::asio::awaitable<void> tick();
  boost::asio::awaitable<void> load();
  std::vector<Due> due_invitations(core::Millis now) const;
  boost::asio::awaitable<void> invite_by_rules(core::Millis now);
  boost::asio::awaitable<store::Result<core::Visit>> make_invitation(core::Visit visit, core::Invitation inv);
  boost::asio::awaitable<void> left(std::string visitor_id);
  std::vector<std::pair<std::string, core::Millis>> open_tabs_until(core::Millis now) const;
  boost::asio::awaitable<void> keep_tabs_live(core::Millis now);
  void absorb(store::VisitChanges const& changes);
  // Sends each console what it lacks (only the new ones: `only_new`).
  void send_views(core::Millis now, bool only_new);
  // Admits a page event of the client's visitor (its budget), else answers.
  bool admit(Client& c, protocol::Request const& req, core::Millis now);
  store::VisitWrite how(core::Millis now, std::string const& rule, std::string_view event) const;
  core::PresenceTimes times() const;

  Deps d_;
  Periodic periodic_;
  core::LiveVisitors live_;
  bool loaded_ = false;
  std::string cursor_;
  core::Millis last_read_ = 0;
  core::Millis last_keep_ = 0;
  std::uint64_t shown_generation_ = 0;
  std::unordered_map<std::uint64_t, Tab> tabs_;           // by session
  std::unordered_map<std::string, Local> local_;          // visitors with a tab here
  std::vector<Subscriber> subscribers_;
};

}  // namespace exceed::app
