// One Exceed server process: wires the core, the store and the network.
// Owns the Redis links, the sessions (Hub), routing, the HTTP API and the
// background timers; all of it runs on one io_context thread.
#pragma once

#include "app/auth.hpp"
#include "app/client.hpp"
#include "app/conversations.hpp"
#include "app/config.hpp"
#include "app/db.hpp"
#include "app/http_router.hpp"
#include "app/hub.hpp"
#include "app/services.hpp"
#include "app/version.hpp"
#include "core/bus.hpp"
#include "core/clock.hpp"
#include "net/server.hpp"
#include "net/security.hpp"
#include "net/static_files.hpp"
#include "protocol/codec.hpp"
#include "store/redis.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace exceed::store {
class AccountStore;
class AssessmentStore;
class ConversationStore;
class FigureStore;
class FollowupStore;
class WebhookStore;
class AttachmentStore;
class MailStore;
class ReplyStore;
class VisitorStore;
class RoutingStore;
class TicketStore;
}

namespace exceed::app {

class Assessments;
class Attachments;
class BlobStorage;
class Followups;
class Metrics;
class Replies;
class Reports;
class Routing;
class Throttle;
class Tickets;
class Webhooks;
class Mailer;
class Visitors;

// The current time as the core takes it.
core::Millis now_ms();

// The wall clock, for the parts that take a core::Clock.
class SystemClock final : public core::Clock {
 public:
  core::Millis now() const noexcept override { return now_ms(); }
};

class App final : public net::Handler, public Publisher, public Visibility, public EventSink, public ClientHost {
 public:
  App(boost::asio::io_context& io, Config config);
  ~App() override;

  // Connects to Redis, binds the port and starts accepting. Throws when the
  // port cannot be bound; Redis being down is not fatal (see /readyz).
  void start();
  // Graceful stop: refuse new work, close WebSockets with 1001, let Redis
  // writes in flight finish, then call done.
  void stop(std::function<void()> done);
  std::uint16_t port() const;

  // net::Handler
  boost::asio::awaitable<net::HttpResponse> on_http(net::HttpRequest req) override;
  std::optional<net::HttpResponse> on_ws_upgrade(net::HttpRequest const& req) override;
  std::shared_ptr<net::WebSocketHandler> on_ws_open(std::shared_ptr<net::WebSocket> ws,
                                                    net::HttpRequest const& req) override;

  // Services for sessions, routing and the HTTP API.
  Config const& config() const noexcept { return config_; }
  core::Clock const& clock() const noexcept override { return clock_; }
  Config::Limits const& client_limits() const noexcept override { return config_.limits; }
  Db& db() noexcept { return *db_; }
  Hub& hub() noexcept { return hub_; }
  Routing& routing() noexcept { return *routing_; }
  Followups& followups() noexcept { return *followups_; }
  Conversations& conversations() noexcept { return *conversations_; }
  Tickets& tickets() noexcept { return *tickets_; }
  Assessments& assessments() noexcept { return *assessments_; }
  Metrics& metrics() noexcept { return *metrics_; }
  Throttle& throttle() noexcept { return *throttle_; }
  Webhooks& webhooks() noexcept { return *webhooks_; }
  Attachments& attachments() noexcept { return *attachments_; }
  Mailer& mail() noexcept { return *mailer_; }
  Visitors& visitors() noexcept { return *visitors_; }
  Replies& replies() noexcept { return *replies_; }
  TokenSigner const& tokens() const noexcept { return tokens_; }
  std::string const& process_id() const noexcept { return process_id_; }
  boost::asio::any_io_executor executor() const override { return io_.get_executor(); }
  bool stopping() const noexcept { return stopping_; }

  // May a page from `origin` use this server (WebSocket, and the HTTP API
  // from a browser)? server.allowed_origins, or by default the server's own
  // origin and localhost.
  bool origin_allowed(std::string_view origin, net::HttpRequest const& req) const;
  // Does this server answer for the request's Host? Loopback names, IP
  // addresses, server.public_hosts and the hosts of allowed_origins; a
  // browser page on another name (DNS rebinding) is refused.
  bool host_allowed(net::HttpRequest const& req) const;
  // The client's address: the peer, or the last X-Forwarded-For entry when
  // the peer is one of server.trusted_proxies.
  std::string client_address(net::HttpRequest const& req) const;

  // Publisher: delivers an event to its targets here and, over Redis
  // pub/sub, in every other process. The frame is encoded once and shared.
  void publish(Targets targets, std::string frame) override;
  // EventSink: passed on to the webhooks (publish() tells published()
  // itself; features tell happened() of the events no session is sent).
  void published(std::string_view frame) override;
  void happened(std::string_view frame) override;
  // Visibility: the store's access rules.
  boost::asio::awaitable<store::Result<store::Done>> conversation(core::Actor const& actor, std::string id) override;
  boost::asio::awaitable<store::Result<store::Done>> ticket(core::Actor const& actor, std::string id) override;

  // Whether events go on the bus: not while this process knows it is the
  // only one (see App::observe_processes).
  bool bus_publishing() const noexcept { return publishing_.publishing(); }
  // The heartbeat's count of live processes (this one included).
  void observe_processes(std::int64_t live);
  // Completes once this process has told the others it is here (or found
  // none, or waited long enough): only then do its sessions become
  // targets, so no process skips the bus while this one holds a session.
  boost::asio::awaitable<void> joined();

  // ClientHost: one decoded request of an authenticated client, and hello
  // (app/chat.cpp); the end of a client.
  boost::asio::awaitable<void> handle(Client& client, protocol::Request const& req) override;
  boost::asio::awaitable<void> hello(Client& client, protocol::Request const& req) override;
  boost::asio::awaitable<boost::json::array> open_conversations(Client& client);
  boost::asio::awaitable<void> resume(Client& client, std::vector<protocol::Resume> points);
  void client_closed(Client& client) override;

  // Checks a password on the hashing pool (slow on purpose). Callers first
  // see hashing_full(): past auth.hashing_queue checks, they answer 503.
  boost::asio::awaitable<bool> check_password(std::string password, std::string stored);
  bool hashing_full() const noexcept { return hashing_in_flight_ >= config_.auth.hashing_queue; }

  // Closes every session of a user whose tokens were revoked (here and,
  // over the bus, in every process).
  void revoke_sessions(std::string const& user_id);

 private:
  boost::asio::awaitable<void> finish_stop(std::function<void()> done);
  void on_bus(std::string_view payload);
  void say(core::BusMessage const& m);
  void deliver_positions(std::string_view list);
  void close_sessions_of(std::string const& user_id);
  void deliver(Targets const& targets, std::shared_ptr<std::string const> const& frame);
  void on_store_up();
  boost::asio::awaitable<void> join();
  void finish_join();
  void make_features();
  void scan_web_root();
  net::ServerOptions server_options() const;
  // The HTTP API (app/http_api.cpp).
  void make_routes();
  boost::asio::awaitable<net::HttpResponse> route_http(net::HttpRequest& req);
  boost::asio::awaitable<std::variant<Actor, net::HttpResponse>> caller(net::HttpRequest const& req);
  boost::asio::awaitable<net::HttpResponse> prometheus(HttpCall& call);
  boost::asio::awaitable<net::HttpResponse> new_visitor(HttpCall& call);
  boost::asio::awaitable<net::HttpResponse> login(HttpCall& call);
  boost::asio::awaitable<net::HttpResponse> csat_link(HttpCall& call);
  boost::asio::awaitable<net::HttpResponse> static_file(net::HttpRequest const& req);
  Conversations::Hooks conversation_hooks();
  void make_figures();

  boost::asio::io_context& io_;
  Config config_;
  std::string process_id_;
  TokenSigner tokens_;
  std::shared_ptr<store::Connection> redis_;
  std::shared_ptr<store::Subscriber> bus_;
  std::unique_ptr<Db> db_;
  Hub hub_;
  std::unique_ptr<store::RoutingStore> routing_store_;
  std::unique_ptr<Routing> routing_;
  SystemClock clock_;
  std::unique_ptr<store::ConversationStore> conversation_store_;
  std::unique_ptr<Conversations> conversations_;
  std::unique_ptr<store::FollowupStore> followup_store_;
  std::unique_ptr<Followups> followups_;
  std::unique_ptr<store::TicketStore> ticket_store_;
  std::unique_ptr<Tickets> tickets_;
  std::unique_ptr<store::AssessmentStore> assessment_store_;
  std::unique_ptr<Assessments> assessments_;
  std::unique_ptr<store::FigureStore> figure_store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Reports> reports_;
  std::unique_ptr<store::AccountStore> account_store_;
  std::unique_ptr<Throttle> throttle_;
  std::unique_ptr<store::WebhookStore> webhook_store_;
  std::unique_ptr<Webhooks> webhooks_;
  EventSink* events_ = nullptr;  // hears every published event (the webhooks)
  std::unique_ptr<store::AttachmentStore> attachment_store_;
  std::unique_ptr<BlobStorage> blobs_;
  std::unique_ptr<Attachments> attachments_;
  std::unique_ptr<store::MailStore> mail_store_;
  std::unique_ptr<Mailer> mailer_;
  std::unique_ptr<store::VisitorStore> visitor_store_;
  std::unique_ptr<Visitors> visitors_;
  std::unique_ptr<store::ReplyStore> reply_store_;
  std::unique_ptr<Replies> replies_;
  std::unique_ptr<net::Server> server_;
  net::StaticFiles static_files_;  // web_root, scanned at start
  Router routes_;                  // the HTTP API (make_routes)
  std::set<std::string, std::less<>> public_hosts_;     // lower-case host names
  std::vector<net::IpRange> trusted_proxies_;
  boost::asio::thread_pool hashing_;
  int hashing_in_flight_ = 0;
  bool stopping_ = false;
  bool store_was_up_ = false;
  // The bus (core/bus.hpp): publish until we know we are alone; the join
  // of this process with the others.
  core::BusPublishing publishing_;
  core::BusJoin join_;
  bool join_started_ = false;
  boost::asio::steady_timer join_timer_;  // joined() waiters and join()'s wait
};

}  // namespace exceed::app
