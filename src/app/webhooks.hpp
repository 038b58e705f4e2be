// Webhooks: the shop's other systems (order system, CRM) hear about chats
// and tickets as they happen. Supervisors subscribe a URL to event types
// (/api/v1/webhooks); each event is POSTed as JSON, signed with the
// subscription's secret, at least once, in order per conversation, retried
// with exponential backoff, from the durable outbox of store::WebhookStore
// that every process delivers from. A receiver that fails for
// webhooks.disable_after_s is disabled with the reason shown.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/periodic.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "core/prometheus.hpp"
#include "core/webhook.hpp"
#include "net/security.hpp"
#include "store/webhooks.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::app {

// What the outbox keeps of one event: its type, its order key (the lane:
// "c:<conversation>", else "t:<ticket>", else "f:<follow-up>") and the body
// receivers get: {"id", "type", "created_at", "data": the event's fields}.
struct WebhookEvent {
  std::string id;
  std::string type;
  std::string lane;
  std::string body;
};
// nullopt for a frame that is not an event webhooks carry.
std::optional<WebhookEvent> webhook_event(std::string_view frame, std::string id, core::Millis now);

class Webhooks final : public EventSink {
 public:
  struct Deps {
    store::WebhookStore& store;
    core::Clock const& clock;
    Config::Webhooks const& config;
    boost::asio::any_io_executor executor;
    std::function<bool()> store_up;
    std::string consumer;  // this process's name in the outbox's consumer group
    core::prom::Registry& metrics;
  };
  explicit Webhooks(Deps deps);
  void start();
  void stop();

  // EventSink: puts the event in the outbox when a subscription wants it.
  void published(std::string_view frame) override;
  void happened(std::string_view frame) override;

  // /api/v1/webhooks[/...]: `rest` is what follows /api/v1/webhooks.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query,
                                                 boost::json::object body);

 private:
  void enqueue(std::string_view frame);
  boost::asio::awaitable<void> pump();
  boost::asio::awaitable<void> refresh();
  boost::asio::awaitable<void> deliver(store::Claimed c);
  // Why this URL may not be subscribed (a parse error, or the SSRF guard),
  // or nullopt.
  boost::asio::awaitable<std::optional<std::string>> url_refusal(std::string url);
  boost::asio::awaitable<net::HttpResponse> create(Actor const& actor, boost::json::object body);
  boost::asio::awaitable<net::HttpResponse> change(std::string id, boost::json::object body);
  boost::json::object to_json(store::Webhook const& w) const;

  Deps d_;
  Periodic periodic_;
  std::vector<net::IpRange> allowed_;
  core::webhook::Backoff backoff_;
  std::vector<store::Webhook> active_;  // the active subscriptions, as of the last refresh
  core::Millis refreshed_at_ = 0;
  core::Millis reclaimed_at_ = 0;
  bool group_ready_ = false;
  bool pumping_ = false;
  int in_flight_ = 0;
  double* enqueued_;
  double* delivered_;
  double* failed_;
  double* disabled_;
  core::prom::Histogram* latency_;
};

}  // namespace exceed::app
