// The e-mail channel. Out: an agent's public reply on a ticket, the chat
// transcript on the customer's request and the CSAT link are mailed to a
// customer who left an address, through SMTP (STARTTLS and AUTH, libcurl),
// from a durable queue in Redis (store::MailStore) that every process sends
// from, retried with backoff, threaded by Message-ID/In-Reply-To, with a
// Reply-To that carries a signed ticket token. In: the operator's mail
// server (or an inbound-parse service) POSTs a customer's reply to
// /api/v1/mail/inbound with a shared secret; the reply, without its quoted
// mail and signature, becomes the customer's public comment on the ticket
// its token (or its thread) names, when it comes from that ticket's
// customer. Supervisors see the queue (/api/v1/mail: each mail's status,
// last error and attempt log, never its body) and queue a failed mail
// again; a finished mail is deleted after mail.retention_s.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/periodic.hpp"
#include "app/smtp.hpp"
#include "core/clock.hpp"
#include "core/prometheus.hpp"
#include "core/webhook.hpp"
#include "store/mail.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>

namespace exceed::app {

// The token in a reply address: "<ticket id>.<24 hex digits of HMAC>".
std::string mail_reply_token(std::string_view secret, std::string_view ticket_id);
// The ticket a token names, when its MAC is right.
std::optional<std::string> verify_mail_reply_token(std::string_view secret, std::string_view token);

class Mailer {
 public:
  // Adds a customer's reply to a ticket as their public comment (opening a
  // follow-up when it is closed): the ticket it landed on, or "".
  using Reply = std::function<boost::asio::awaitable<std::string>(
      std::string ticket, std::string conversation, std::string visitor, std::string name, std::string text)>;
  struct Deps {
    store::MailStore& store;
    core::Clock const& clock;
    Config::Mail const& config;
    std::string token_secret;  // signs reply addresses
    boost::asio::any_io_executor executor;
    std::function<bool()> store_up;
    core::prom::Registry& metrics;
    Reply reply;
  };
  explicit Mailer(Deps deps);
  ~Mailer();
  void start();
  void stop();
  bool enabled() const noexcept { return d_.config.enabled; }

  // An agent's public reply on a ticket, for its customer (nothing when the
  // channel is off or they left no address).
  boost::asio::awaitable<void> ticket_reply(std::string ticket_id, std::string author_name, std::string text);
  // The CSAT question of a resolved conversation; `link` is the signed one
  // of POST /api/v1/csat/{link}.
  boost::asio::awaitable<void> csat(std::string conversation_id, std::string link);

  // POST /api/v1/mail/transcript {conversation_id}: the customer's own chat, mailed to them.
  boost::asio::awaitable<net::HttpResponse> transcript(Actor actor, boost::json::object body);
  // POST /api/v1/mail/inbound: `token` is the request's bearer token, `raw` the message.
  boost::asio::awaitable<net::HttpResponse> inbound(std::optional<std::string> token, std::string raw);
  // GET /api/v1/mail, GET /api/v1/mail/{id}, POST /api/v1/mail/{id}/retry
  // (supervisors): `rest` is what follows /api/v1/mail.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query);

 private:
  boost::asio::awaitable<void> pump();
  boost::asio::awaitable<void> send(std::string id);
  boost::asio::awaitable<SmtpResult> smtp(std::string rcpt, std::string envelope, std::string text);
  boost::asio::awaitable<store::Result<store::Done>> enqueue(store::Mail m);
  boost::asio::awaitable<void> count_waiting();
  std::string domain() const;

  Deps d_;
  Periodic periodic_;
  core::webhook::Backoff backoff_;
  SmtpSettings smtp_;
  boost::asio::thread_pool pool_;  // curl's SMTP transfers block: they run here
  int in_flight_ = 0;
  core::Millis counted_at_ = 0;
  double* waiting_;  // gauge: every process's queued mails, read every few seconds
  double* queued_;
  double* sent_;
  double* failed_;
  double* inbound_accepted_;
  double* inbound_refused_;
};

}  // namespace exceed::app
