#include "app/app.hpp"

#include "app/assessments.hpp"
#include "app/client.hpp"
#include "app/conversations.hpp"
#include "store/conversations.hpp"
#include "app/followups.hpp"
#include "store/followups.hpp"
#include "app/metrics.hpp"
#include "app/reports.hpp"
#include "app/tickets.hpp"
#include "app/routing.hpp"
#include "store/routing.hpp"
#include "store/accounts.hpp"
#include "store/assessments.hpp"
#include "store/figures.hpp"
#include "store/scripts.hpp"
#include "store/tickets.hpp"
#include "app/throttle.hpp"
#include "app/webhooks.hpp"
#include "store/webhooks.hpp"
#include "app/attachments.hpp"
#include "app/s3_storage.hpp"
#include "store/attachments.hpp"
#include "store/cluster.hpp"
#include "app/mail.hpp"
#include "store/mail.hpp"
#include "app/replies.hpp"
#include "app/visitors.hpp"
#include "net/security.hpp"
#include "store/replies.hpp"
#include "store/visitors.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;

core::Millis now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// What routing tells the rest of the process.
Routing::Hooks routing_hooks(App& app) {
  Routing::Hooks h;
  h.processes_seen = [&app](std::int64_t live) { app.observe_processes(live); };
  h.queue_wait = [&app](core::Millis ms) { app.metrics().queue_wait(ms); };
  h.sla_breach = [&app](std::string const& metric) { app.metrics().sla_breach(metric); };
  return h;
}

// What the other features do when a ticket moves.
Tickets::Hooks ticket_hooks(App& app) {
  Tickets::Hooks h;
  h.dispatch = [&app](std::string const& team) { app.routing().dispatch(team); };
  h.positions = [&app](std::string const& team) { app.routing().positions(team); };
  h.assess = [&app](std::string ticket, std::string trigger) {
    return app.assessments().assess_ticket(std::move(ticket), std::move(trigger));
  };
  h.new_ticket_allowed = [&app](std::string customer) {
    return app.throttle().take("tickets", std::move(customer), app.config().limits.tickets_per_customer_per_hour,
                               3'600'000, app.clock().now());
  };
  h.rate_limited = [&app](std::string_view what) { app.metrics().rate_limited(what); };
  h.attachment = [&app](Actor actor, std::string id, std::string ticket) -> asio::awaitable<store::Result<std::string>> {
    auto file = co_await app.attachments().for_ticket(actor, std::move(id), std::move(ticket));
    if (!file) co_return file.failure();
    co_return json::serialize(Attachments::to_json(*file));
  };
  h.reply_mailed = [&app](std::string ticket, std::string author_name, std::string text) {
    return app.mail().ticket_reply(std::move(ticket), std::move(author_name), std::move(text));
  };
  return h;
}

}  // namespace

App::App(asio::io_context& io, Config config)
    : io_(io),
      config_(std::move(config)),
      process_id_(random_id("p_")),
      tokens_(config_.auth.token_secret),
      hashing_(static_cast<std::size_t>(config_.auth.hashing_threads)),
      join_timer_(io) {
  for (auto const& h : config_.server.public_hosts) public_hosts_.insert(h);
  for (auto const& o : config_.server.allowed_origins)
    if (auto parsed = net::parse_origin(o)) public_hosts_.insert(parsed->host);
  for (auto const& a : config_.server.trusted_proxies)
    if (auto r = net::parse_ip_range(a)) trusted_proxies_.push_back(*r);
}

App::~App() { hashing_.join(); }

void App::start() {
  std::string why;
  store::Options opt;
  opt.command_timeout = std::chrono::milliseconds(config_.redis.command_timeout_ms);
  // One primary (named by url, or found by Sentinel), or a Redis Cluster.
  std::optional<store::Endpoint> ep;
  std::shared_ptr<store::Cluster> cluster;
  if (config_.redis.cluster.empty()) {
    ep = store::Endpoint::parse(config_.redis.url, &why);
    if (!ep) throw ConfigError("redis.url", "redis.url", why);
    if (!config_.redis.sentinels.empty() && !ep->use_sentinels(config_.redis.sentinels, config_.redis.master_name, &why))
      throw ConfigError("redis.sentinels", "redis.sentinels", why);
  } else {
    auto seeds = store::parse_cluster_seeds(config_.redis.cluster, &why);
    if (!seeds) throw ConfigError("redis.cluster", "redis.cluster", why);
    store::ClusterOptions copt;
    copt.node = opt;
    copt.redirects.scripts_follow_ask = false;  // the scripts build keys they do not declare (docs/CLUSTER.md)
    cluster = store::Cluster::create(io_.get_executor(), std::move(*seeds), copt);
  }

  scan_web_root();

  if (cluster) redis_ = cluster;
  else redis_ = store::Connection::create(io_.get_executor(), *ep, opt);
  db_ = std::make_unique<Db>(redis_, config_.redis.prefix);
  db_->store().set_grouping(config_.redis.group_commit);
  db_->store().set_functions(config_.redis.functions);
  make_features();
  db_->time_commands(metrics_->redis_latency());
  redis_->on_up([this] { on_store_up(); });
  redis_->on_down([] { spdlog::warn("store: Redis is unreachable; requests that need it get 'unavailable'"); });
  redis_->start();

  auto on_message = [this](std::string_view, std::string_view payload) { on_bus(payload); };
  if (cluster) bus_ = cluster->subscriber(on_message);
  else bus_ = store::Subscriber::create(io_.get_executor(), *ep, on_message, opt);
  bus_->subscribe(db_->keys().bus());
  // Sessions wait for the join at most this long (Redis may be down).
  join_timer_.expires_after(std::chrono::seconds(3));
  bus_->on_up([this] {
    if (join_started_) return;
    join_started_ = true;
    asio::co_spawn(io_, join(), asio::detached);
  });
  bus_->start();

  routing_->start();
  followups_->start();
  tickets_->start();
  metrics_->start();
  webhooks_->start();
  mailer_->start();
  visitors_->start();

  server_ = net::Server::create(io_.get_executor(), server_options(), *this);
  server_->start();
  spdlog::info("exceed {} listening on {}:{} ({}), store {}, process {}", exceed_version, config_.server.host,
               server_->port(), config_.server.tls_cert.empty() ? "http" : "https", ep->describe(), process_id_);
}

// The features, each given its store module and the narrow services it
// needs (see docs/ARCHITECTURE.md), and the HTTP routes onto them.
void App::make_features() {
  conversation_store_ = std::make_unique<store::ConversationStore>(db_->store());
  routing_store_ = std::make_unique<store::RoutingStore>(db_->store());
  routing_ = std::make_unique<Routing>(Routing::Deps{*routing_store_, *conversation_store_, *this, clock_, config_,
                                                     io_.get_executor(), process_id_,
                                                     [this] { return db_->connected(); }, routing_hooks(*this)});
  conversations_ = std::make_unique<Conversations>(Conversations::Deps{
      *conversation_store_, *this, clock_, config_, conversation_hooks()});
  followup_store_ = std::make_unique<store::FollowupStore>(db_->store());
  followups_ = std::make_unique<Followups>(Followups::Deps{
      *followup_store_, *this, *this, clock_, config_.followups, io_.get_executor(),
      [this] { return db_->connected(); },
      [this](std::string conversation) { return assessments_->assess(std::move(conversation), "followup_done"); },
      this});
  ticket_store_ = std::make_unique<store::TicketStore>(db_->store());
  tickets_ = std::make_unique<Tickets>(Tickets::Deps{*ticket_store_, *conversation_store_, *this, clock_, config_,
                                                     io_.get_executor(), [this] { return db_->connected(); },
                                                     ticket_hooks(*this)});
  make_figures();
  account_store_ = std::make_unique<store::AccountStore>(db_->store());
  throttle_ = std::make_unique<Throttle>(*account_store_, config_.auth);
  visitor_store_ = std::make_unique<store::VisitorStore>(db_->store());
  visitors_ = std::make_unique<Visitors>(Visitors::Deps{
      *visitor_store_, *this, clock_, config_.visitors, config_.invitations, config_.teams,
      config_.routing.default_team, config_.metrics.zone, io_.get_executor(), [this] { return db_->connected(); },
      [this](std::string_view event) { metrics_->invitation(event); },
      [this](std::size_t live) { metrics_->visitors_live(live); }});
  reply_store_ = std::make_unique<store::ReplyStore>(db_->store());
  replies_ = std::make_unique<Replies>(Replies::Deps{*reply_store_, *this, clock_});
  webhook_store_ = std::make_unique<store::WebhookStore>(db_->store());
  webhooks_ = std::make_unique<Webhooks>(Webhooks::Deps{*webhook_store_, clock_, config_.webhooks, io_.get_executor(),
                                                        [this] { return db_->connected(); }, process_id_,
                                                        metrics_->registry()});
  events_ = webhooks_.get();
  attachment_store_ = std::make_unique<store::AttachmentStore>(db_->store());
  if (auto const& a = config_.attachments; a.storage == "s3")
    blobs_ = std::make_unique<S3Storage>(S3Settings{a.s3_endpoint, a.s3_bucket, a.s3_region, a.s3_access_key,
                                                    a.s3_secret_key, a.s3_url_ttl_s, ""},
                                         [this] { return clock_.now(); });
  else
    blobs_ = std::make_unique<LocalDiskStorage>(config_.attachments.dir);
  attachments_ = std::make_unique<Attachments>(
      Attachments::Deps{*attachment_store_, *blobs_, *this, clock_, config_.attachments});
  mail_store_ = std::make_unique<store::MailStore>(db_->store());
  mailer_ = std::make_unique<Mailer>(Mailer::Deps{
      *mail_store_, clock_, config_.mail, config_.auth.token_secret, io_.get_executor(),
      [this] { return db_->connected(); }, metrics_->registry(),
      [this](std::string ticket, std::string conversation, std::string visitor, std::string name, std::string text) {
        return tickets_->customer_message(std::move(ticket), std::move(conversation), std::move(visitor),
                                          std::move(name), std::move(text), true);
      }});
  make_routes();
}

// The static web clients: the files of server.web_root, found once.
void App::scan_web_root() {
  static_files_ = net::StaticFiles::scan(config_.server.web_root);
  if (static_files_.size() == 0)
    spdlog::warn("web: no files to serve in server.web_root '{}'", config_.server.web_root);
  else
    spdlog::info("web: serving {} files from {}", static_files_.size(), static_files_.root());
  if (static_files_.skipped())
    spdlog::warn("web: {} files in {} are not served (a link out of the folder, or a name that needs URL encoding)",
                 static_files_.skipped(), static_files_.root());
}


net::ServerOptions App::server_options() const {
  net::ServerOptions so;
  so.host = config_.server.host;
  so.port = config_.server.port;
  so.reuse_port = config_.server.reuse_port;
  so.tls_cert_file = config_.server.tls_cert;
  so.tls_key_file = config_.server.tls_key;
  so.tls_ciphers = config_.server.tls_ciphers;
  so.limits.max_frame_bytes = config_.limits.max_frame_bytes;
  so.limits.max_body_bytes = config_.limits.max_body_bytes;
  so.limits.upload_path = "/api/v1/attachments";
  so.limits.upload_body_bytes = config_.attachments.max_bytes;
  so.limits.ws_idle_timeout = std::chrono::seconds(config_.limits.ws_idle_timeout_s);
  so.limits.header_timeout = std::chrono::seconds(config_.limits.header_timeout_s);
  so.limits.out_queue_max_bytes = config_.limits.out_queue_bytes;
  so.limits.max_connections = config_.limits.max_connections;
  so.limits.max_connections_per_ip = config_.limits.max_connections_per_ip;
  return so;
}

std::uint16_t App::port() const { return server_ ? server_->port() : 0; }

void App::stop(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("stopping: closing connections");
  routing_->stop();
  followups_->stop();
  tickets_->stop();
  metrics_->stop();
  webhooks_->stop();
  mailer_->stop();
  visitors_->stop();
  server_->stop(std::chrono::seconds(config_.server.shutdown_grace_s), [this, done = std::move(done)]() mutable {
    asio::co_spawn(io_, finish_stop(std::move(done)), asio::detached);
  });
}

// Sessions closing queued their last Redis writes (presence): let them land,
// then leave the process list and close the store links.
asio::awaitable<void> App::finish_stop(std::function<void()> done) {
  asio::steady_timer t(io_);
  for (int i = 0; i < 200 && redis_->connected(); ++i) {
    t.expires_after(std::chrono::milliseconds(10));
    co_await t.async_wait(asio::use_awaitable);
    if (redis_->in_flight() == 0) {
      // One more turn: a coroutine may be about to issue its write.
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
      if (redis_->in_flight() == 0) break;
    }
  }
  co_await routing_->leave();
  bus_->stop();
  redis_->stop();
  spdlog::info("stopped");
  done();
}

void App::on_store_up() {
  db_->load_scripts();  // first on the new link
  spdlog::info("store: connected");
  routing_->store_came_up();
}

// --------------------------------------------------------------- WebSockets

std::optional<net::HttpResponse> App::on_ws_upgrade(net::HttpRequest const& req) {
  auto refuse = [](unsigned status, std::string_view code, std::string_view why) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::string(R"({"error":{"code":")") + std::string(code) + R"(","message":")" + std::string(why) + "\"}}";
    return r;
  };
  if (stopping_) return refuse(503, "unavailable", "the server is shutting down");
  if (!host_allowed(req)) return refuse(400, "bad_request", "this server does not answer for that Host");
  auto origin = req.header("Origin");
  if (!origin) {
    if (config_.server.allow_missing_origin) return std::nullopt;
    return refuse(403, "forbidden", "an Origin header is required");
  }
  if (origin_allowed(*origin, req)) return std::nullopt;
  return refuse(403, "forbidden", "origin not allowed");
}

bool App::origin_allowed(std::string_view origin, net::HttpRequest const& req) const {
  auto o = net::parse_origin(origin);
  if (!o) return false;
  auto const& allowed = config_.server.allowed_origins;
  if (!allowed.empty())
    return std::any_of(allowed.begin(), allowed.end(), [&](auto const& a) { return a == "*" || a == o->serialized; });
  // Default: pages on loopback, and the server's own origin (the host and
  // port the browser connected to; Host itself is checked by host_allowed).
  if (net::is_loopback_host(o->host)) return true;
  auto host = req.header("Host");
  auto h = host ? net::parse_host_header(*host) : std::nullopt;
  std::uint16_t default_port = o->scheme == "https" ? 443 : 80;
  return h && h->host == o->host && h->port.value_or(default_port) == o->port;
}

bool App::host_allowed(net::HttpRequest const& req) const {
  auto host = req.header("Host");
  if (!host) return true;  // HTTP/1.0 (net refuses HTTP/1.1 without one); browsers always send it
  auto h = net::parse_host_header(*host);
  if (!h) return false;
  return net::is_loopback_host(h->host) || net::is_ip_literal(h->host) || public_hosts_.count(h->host) > 0;
}

std::string App::client_address(net::HttpRequest const& req) const {
  bool trusted = std::any_of(trusted_proxies_.begin(), trusted_proxies_.end(),
                             [&](net::IpRange const& r) { return net::in_range(r, req.remote_ip); });
  if (!trusted) return req.remote_ip;
  auto xff = req.header("X-Forwarded-For");
  if (!xff) return req.remote_ip;
  auto last = xff->substr(xff->rfind(',') == std::string_view::npos ? 0 : xff->rfind(',') + 1);
  while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
  while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(std::string(last), ec);
  return ec ? req.remote_ip : ip.to_string();
}

std::shared_ptr<net::WebSocketHandler> App::on_ws_open(std::shared_ptr<net::WebSocket> ws, net::HttpRequest const&) {
  auto client = std::make_shared<Client>(*this, std::move(ws));
  client->start();
  return client;
}

void App::client_closed(Client& client) {
  hub_.remove(client);
  visitors_->closed(client);
  if (client.authenticated() && client.role() == core::Role::agent) routing_->agent_disconnected(client.user_id());
}

// --------------------------------------------------------------- wiring

// What the other features do when a conversation moves.
Conversations::Hooks App::conversation_hooks() {
  Conversations::Hooks h;
  h.dispatch = [this](std::string const& team) { routing_->dispatch(team); };
  h.positions = [this](std::string const& team) { routing_->positions(team); };
  h.assess = [this](std::string conversation, std::string trigger) {
    return assessments_->assess(std::move(conversation), std::move(trigger));
  };
  h.customer_returned = [this](std::string conversation, std::string previous) {
    return assessments_->customer_returned(std::move(conversation), std::move(previous));
  };
  h.after_resolve = [this](std::string conversation, std::string agent, std::string stage) {
    return followups_->after_resolve(std::move(conversation), std::move(agent), std::move(stage));
  };
  h.ticket_reply = [this](std::string ticket, std::string conversation, std::string visitor, std::string name,
                          std::string text) -> asio::awaitable<void> {
    co_await tickets_->customer_message(std::move(ticket), std::move(conversation), std::move(visitor),
                                        std::move(name), std::move(text));
  };
  h.attachment = [this](core::Actor actor, std::string id,
                        std::string conversation) -> asio::awaitable<store::Result<std::string>> {
    auto a = co_await attachments_->for_message(actor, std::move(id), std::move(conversation));
    if (!a) co_return a.failure();
    co_return json::serialize(Attachments::to_json(*a));
  };
  h.happened = [this](std::string frame) { happened(frame); };
  h.csat_mail = [this](std::string conversation, std::string link) {
    return mailer_->csat(std::move(conversation), std::move(link));
  };
  h.ticket_created = [this](std::string ticket) { return tickets_->announce_created(std::move(ticket)); };
  h.message_received = [this] { metrics_->message_received(); };
  h.first_response = [this](core::Millis ms) { metrics_->first_response(ms); };
  h.sla_breach = [this](std::string const& metric) { metrics_->sla_breach(metric); };
  h.enrich = [this](std::string visitor, protocol::ConversationStart start) {
    return visitors_->enrich(std::move(visitor), std::move(start));
  };
  h.visit_started = [this](std::string visitor, std::string conversation, std::optional<std::string> invitation) {
    return visitors_->started(std::move(visitor), std::move(conversation), std::move(invitation));
  };
  return h;
}

// The assessment, the live figures and the reports, on their stores.
void App::make_figures() {
  assessment_store_ = std::make_unique<store::AssessmentStore>(db_->store());
  Assessments::Hooks judged;
  judged.check_in = [this](std::string conversation, std::string agent) {
    return followups_->check_in(std::move(conversation), std::move(agent));
  };
  judged.assessed = [this](std::string_view level) { metrics_->assessed(level); };
  judged.happened = [this](std::string frame) { happened(frame); };
  assessments_ = std::make_unique<Assessments>(Assessments::Deps{*assessment_store_, *conversation_store_,
                                                                 *followup_store_, *this, clock_, config_,
                                                                 std::move(judged)});
  figure_store_ = std::make_unique<store::FigureStore>(db_->store());
  metrics_ = std::make_unique<Metrics>(Metrics::Deps{
      *figure_store_, clock_, config_.metrics, io_.get_executor(), [this] { return db_->connected(); },
      [this] { return bus_publishing(); }, [this](core::Role role) { return hub_.count(role); }});
  reports_ = std::make_unique<Reports>(Reports::Deps{*figure_store_, clock_, config_.metrics});
}

// --------------------------------------------------------------- access

asio::awaitable<store::Result<store::Done>> App::conversation(core::Actor const& actor, std::string id) {
  auto o = co_await conversation_store_->view(id, actor);
  if (!o) co_return o.failure();
  co_return store::Done{};
}

asio::awaitable<store::Result<store::Done>> App::ticket(core::Actor const& actor, std::string id) {
  auto o = co_await tickets_->visible(actor, id);
  if (!o) co_return o.failure();
  co_return store::Done{};
}

// --------------------------------------------------------------- events

void App::publish(Targets targets, std::string frame) {
  auto shared = std::make_shared<std::string const>(std::move(frame));
  published(*shared);
  if (targets.size() == 1 && targets[0] == "@positions") {
    deliver_positions(*shared);
  } else {
    deliver(targets, shared);
  }
  if (!publishing_.publishing()) return;
  core::BusMessage m;
  m.from = process_id_;
  if (targets.size() == 1 && targets[0] == "@positions") m.kind = core::BusMessage::Kind::positions;
  else m.targets = std::move(targets);
  m.payload = *shared;
  say(m);
}

void App::published(std::string_view frame) {
  if (events_) events_->published(frame);
}

void App::happened(std::string_view frame) {
  if (events_) events_->happened(frame);
}

void App::say(core::BusMessage const& m) { routing_store_->publish_bus(core::encode(m)); }

// Positions of one queue: [[conversation, visitor, position, estimated_wait_s], ...].
void App::deliver_positions(std::string_view list) {
  std::error_code ec;
  auto v = json::parse(list, ec);
  if (ec || !v.is_array()) return;
  for (auto const& item : v.get_array()) {
    auto const* a = item.if_array();
    if (!a || a->size() < 4 || !(*a)[0].is_string() || !(*a)[1].is_string()) continue;
    for (auto const& c : hub_.sessions_of(std::string((*a)[1].get_string())))
      c->send_position(std::string((*a)[0].get_string()), static_cast<int>((*a)[2].to_number<std::int64_t>()),
                       static_cast<int>((*a)[3].to_number<std::int64_t>()));
  }
}

// A process skips what it published itself: it delivered to its sessions
// already. Any message from another process means it is not alone.
void App::on_bus(std::string_view payload) {
  using Kind = core::BusMessage::Kind;
  auto m = core::decode_bus(payload);
  if (!m || m->from == process_id_) return;
  if (m->kind == Kind::revoke) return close_sessions_of(m->payload);  // also from the command line
  bool was_publishing = publishing_.publishing();
  publishing_.heard_peer(clock_.now());
  if (!was_publishing) spdlog::info("bus: process {} is here: events go on the bus again", m->from);
  switch (m->kind) {
    case Kind::join:
      say(core::BusMessage{Kind::here, process_id_, {}, m->from});
      return;
    case Kind::here:
      if (join_.here(m->from, m->payload, process_id_)) finish_join();
      return;
    case Kind::positions:
      return deliver_positions(m->payload);
    case Kind::event:
      return deliver(m->targets, std::make_shared<std::string const>(std::move(m->payload)));
    case Kind::revoke:
      return;
  }
}

// ------------------------------------------------------------ processes
//
// Events cross processes on one pub/sub channel, and each process used to
// publish every event and read back its own: about a tenth of the server's
// CPU and a sixth of Redis's per message. A process that knows it is alone
// publishes nothing. Knowing is the hard part: a process that starts must
// never hold a session the others skip. So:
// - a process starts publishing (peers_) and stops only when its heartbeat
//   counts no other live process and it heard none on the bus for
//   process_dead_after_ms;
// - any bus message from another process turns publishing back on at once;
// - a starting process, once subscribed, counts the bus's other subscribers
//   (PUBSUB NUMSUB: a killed process's subscription is gone with its
//   socket), says "@join" and waits (at most 3 s) until as many answered
//   "@here"; its hellos wait for that (App::joined), so every process
//   already publishes by the time this one's sessions can be targets.

void App::observe_processes(std::int64_t live) {
  if (!publishing_.observe(live, clock_.now(), process_dead_after_ms)) return;
  if (publishing_.publishing())
    spdlog::info("bus: {} live processes: events go on the bus", live);
  else
    spdlog::info("bus: the only live process: events stay in this process");
}

asio::awaitable<void> App::join() {
  // The other subscribers of the bus are the live processes: a killed one's
  // subscription ends with its socket, whatever `procs` still says. (The
  // command link may come up a little after the subscriber: retry.)
  store::Result<std::int64_t> subs = store::Failure::unavailable("not asked yet");
  asio::steady_timer pause(io_);
  for (int attempt = 0; attempt < 40 && !join_.joined(); ++attempt) {
    subs = co_await routing_store_->bus_subscribers();
    if (subs) break;
    pause.expires_after(std::chrono::milliseconds(50));
    co_await pause.async_wait(asio::use_awaitable);
  }
  if (!subs || join_.joined()) co_return;  // the deadline decides
  auto subscribers = *subs;
  if (join_.begin(subscribers > 1 ? static_cast<std::size_t>(subscribers - 1) : 0)) {  // only this process
    finish_join();
    co_return;
  }
  spdlog::info("bus: telling {} other subscriber(s) that this process is here", join_.expected());
  say(core::BusMessage{core::BusMessage::Kind::join, process_id_, {}, {}});
}

// Joined (all answered, or the deadline): hellos waiting in joined() go on.
void App::finish_join() {
  if (join_.heard() < join_.expected())
    spdlog::warn("bus: {} of {} other subscriber(s) answered the join; going on", join_.heard(), join_.expected());
  join_.give_up();
  join_timer_.cancel();
}

asio::awaitable<void> App::joined() {
  while (!join_.joined()) {
    auto [ec] = co_await join_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec) finish_join();  // the deadline passed
  }
}

// Hands an event to this process's sessions, counting chat messages out.
void App::deliver(Targets const& targets, std::shared_ptr<std::string const> const& frame) {
  constexpr std::string_view message_prefix = R"({"type":"message",)";
  auto n = hub_.deliver(targets, frame);
  if (frame->compare(0, message_prefix.size(), message_prefix) == 0) metrics_->messages_delivered(n);
}

namespace {
// g++ 12 destroys the captures of a coroutine lambda twice: coroutines here
// are named functions that take their state as parameters.
asio::awaitable<bool> verify_on_pool(std::string password, std::string stored) {
  co_return verify_password(password, stored);
}
}  // namespace

asio::awaitable<bool> App::check_password(std::string password, std::string stored) {
  ++hashing_in_flight_;
  auto [e, ok] = co_await asio::co_spawn(hashing_, verify_on_pool(std::move(password), std::move(stored)),
                                         asio::as_tuple(asio::use_awaitable));
  --hashing_in_flight_;
  if (e) std::rethrow_exception(e);
  co_return ok;
}

// ------------------------------------------------------------ revocation
//
// `exceed user disable|delete|passwd` bumps the user's token version in
// Redis (tokens carry the version they were signed with, so every older one
// is refused from then on) and says "@revoke" on the bus: each process
// closes that user's sessions at once.

void App::revoke_sessions(std::string const& user_id) {
  close_sessions_of(user_id);
  say(core::BusMessage{core::BusMessage::Kind::revoke, process_id_, {}, user_id});
}

void App::close_sessions_of(std::string const& user_id) {
  for (auto const& c : hub_.sessions_of(user_id)) {
    c->send(protocol::encode_error(nullptr, protocol::error::unauthorized, "this account's sessions were ended"));
    c->close(protocol::close_code::unauthorized, "revoked");
  }
}

}  // namespace exceed::app
