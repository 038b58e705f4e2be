#include "app/mail.hpp"

#include "app/auth.hpp"
#include "app/wire.hpp"
#include "core/mail.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
namespace mail = core::mail;
using protocol::error;

namespace {

constexpr auto pump_every = std::chrono::milliseconds(200);
constexpr int transcript_every_s = 600;       // one transcript per conversation per 10 minutes
constexpr int inbound_remembered_s = 7 * 86'400;  // a redelivered reply is recognised this long
constexpr std::size_t max_references = 10;
constexpr core::Millis count_every_ms = 2'000;  // the exceed_mail_waiting gauge's reading

double spread() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "14:05" of a time (UTC).
std::string clock_time(core::Millis t) {
  auto s = (t / 1000) % 86'400;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60));
  return buf;
}

// The last `max_references` ids of a space separated list plus `next`.
std::string with_reference(std::string const& refs, std::string const& next) {
  std::vector<std::string> ids;
  std::size_t pos = 0;
  while (pos < refs.size()) {
    auto sp = refs.find(' ', pos);
    auto id = refs.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    if (!id.empty()) ids.push_back(id);
    pos = sp == std::string::npos ? refs.size() : sp + 1;
  }
  if (!next.empty()) ids.push_back(next);
  if (ids.size() > max_references) ids.erase(ids.begin(), ids.end() - max_references);
  std::string out;
  for (auto const& id : ids) out += (out.empty() ? "" : " ") + id;
  return out;
}


// A mail as supervisors see it: everything but its body and headers.
json::object mail_json(store::Mail const& m) {
  json::object j;
  j["id"] = m.id;
  j["kind"] = m.kind;
  j["to"] = m.to;
  j["to_name"] = text_or_null(m.to_name);
  j["subject"] = m.subject;
  j["ticket_id"] = text_or_null(m.ticket_id);
  j["conversation_id"] = text_or_null(m.conversation_id);
  j["status"] = m.status;
  j["attempts"] = m.attempts;
  j["last_error"] = text_or_null(m.last_error);
  j["created_at"] = m.created_at;
  j["sent_at"] = time_or_null(m.sent_at);
  j["failed_at"] = time_or_null(m.failed_at);
  j["next_try_at"] = m.status == "queued" ? time_or_null(m.next_try_at) : json::value(nullptr);
  j["retried_at"] = time_or_null(m.retried_at);
  j["retried_by"] = text_or_null(m.retried_by);
  return j;
}

std::string footer() {
  return "\n\n-- \nReply to this e-mail to answer; write above the quoted text.\n";
}

}  // namespace

std::string mail_reply_token(std::string_view secret, std::string_view ticket_id) {
  return std::string(ticket_id) + "." + hmac_sha256_hex(secret, "mail-reply:" + std::string(ticket_id)).substr(0, 24);
}

std::optional<std::string> verify_mail_reply_token(std::string_view secret, std::string_view token) {
  auto dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot > protocol::max_id_chars) return std::nullopt;
  auto ticket = token.substr(0, dot);
  if (!constant_time_equal(mail_reply_token(secret, ticket), token)) return std::nullopt;
  return std::string(ticket);
}

Mailer::Mailer(Deps deps)
    : d_(std::move(deps)), periodic_(d_.executor, d_.store_up, "mail"),
      pool_(static_cast<std::size_t>(std::max(1, d_.config.max_in_flight))) {
  backoff_.first = d_.config.retry_first_ms;
  backoff_.max = d_.config.retry_max_s * 1000LL;
  smtp_ = SmtpSettings{d_.config.smtp_url,      d_.config.smtp_require_tls, d_.config.smtp_username,
                       d_.config.smtp_password, d_.config.smtp_ca_file,      d_.config.timeout_ms};
  using Type = core::prom::Registry::Type;
  auto& m = d_.metrics;
  m.describe("exceed_mail_queued_total", Type::counter, "E-mails this process put in the mail queue.");
  m.describe("exceed_mail_sent_total", Type::counter, "SMTP sendings of this process, by result (sent, failed).");
  m.describe("exceed_mail_inbound_total", Type::counter,
             "E-mail replies given to POST /api/v1/mail/inbound, by result (accepted, refused).");
  m.describe("exceed_mail_waiting", Type::gauge,
             "E-mails queued and not yet sent or given up, of every process (read from Redis every 2 s).");
  waiting_ = &m.gauge("exceed_mail_waiting");
  queued_ = &m.counter("exceed_mail_queued_total");
  sent_ = &m.counter("exceed_mail_sent_total", {{"result", "sent"}});
  failed_ = &m.counter("exceed_mail_sent_total", {{"result", "failed"}});
  inbound_accepted_ = &m.counter("exceed_mail_inbound_total", {{"result", "accepted"}});
  inbound_refused_ = &m.counter("exceed_mail_inbound_total", {{"result", "refused"}});
}

Mailer::~Mailer() {
  pool_.stop();
  pool_.join();
}

void Mailer::start() {
  if (d_.config.enabled) periodic_.every(pump_every, this, &Mailer::pump);
}

void Mailer::stop() { periodic_.stop(); }

std::string Mailer::domain() const {
  auto d = mail::domain_of(d_.config.from);
  return d.empty() ? std::string("exceed.invalid") : d;
}

// ------------------------------------------------------------- outgoing

asio::awaitable<store::Result<store::Done>> Mailer::enqueue(store::Mail m) {
  auto now = d_.clock.now();
  // Index entries older than any record can live (the longest a mail is
  // retried, plus its retention, plus a day) are trimmed here.
  auto oldest = now - (static_cast<core::Millis>(d_.config.give_up_after_s) + d_.config.retry_max_s +
                       d_.config.retention_s + 86'400) * 1000;
  auto r = co_await d_.store.enqueue(m, now, oldest);
  if (r) ++*queued_;
  else spdlog::error("mail: {} to {} not queued: {}", m.kind, m.to, r.failure().message);
  co_return r;
}

asio::awaitable<void> Mailer::ticket_reply(std::string ticket_id, std::string author_name, std::string text) {
  if (!d_.config.enabled) co_return;
  auto c = co_await d_.store.ticket_contact(ticket_id);
  if (!c || !*c) co_return;
  auto to = mail::address_of((*c)->email);
  if (!to) co_return;  // no address left, or none that can be written to
  store::Mail m;
  m.id = random_id("m_");
  m.kind = "ticket_reply";
  m.to = *to;
  m.to_name = (*c)->name;
  m.subject = "Re: " + utf8_prefix((*c)->subject.empty() ? std::string("your request") : (*c)->subject, 150) +
              " [" + ticket_id + "]";
  m.body = (author_name.empty() ? std::string("Support") : author_name) + " wrote:\n\n" + text + footer();
  m.message_id = "<" + m.id + "." + ticket_id + "@" + domain() + ">";
  m.in_reply_to = (*c)->thread;
  m.references = (*c)->references;
  if (!d_.config.reply_address.empty())
    m.reply_to = mail::plus_address(d_.config.reply_address, mail_reply_token(d_.token_secret, ticket_id));
  m.ticket_id = ticket_id;
  m.conversation_id = (*c)->conversation_id;
  if (!co_await enqueue(m)) co_return;
  co_await d_.store.thread_on(ticket_id, m.message_id, with_reference((*c)->references, m.message_id));
}

asio::awaitable<void> Mailer::csat(std::string conversation_id, std::string link) {
  if (!d_.config.enabled || d_.config.public_url.empty()) co_return;
  auto c = co_await d_.store.conversation_contact(conversation_id);
  if (!c || !*c) co_return;
  auto to = mail::address_of((*c)->email);
  if (!to) co_return;
  store::Mail m;
  m.id = random_id("m_");
  m.kind = "csat";
  m.to = *to;
  m.to_name = (*c)->name;
  m.subject = "How did we do?";
  m.body = "Thank you for chatting with us. How did we do? One click tells us:\n\n" + d_.config.public_url +
           "/csat.html#" + link + "\n\nThe link works for a few days.\n";
  m.message_id = "<" + m.id + "@" + domain() + ">";
  m.conversation_id = conversation_id;
  co_await enqueue(m);
}

asio::awaitable<net::HttpResponse> Mailer::transcript(Actor actor, json::object body) {
  if (!d_.config.enabled) co_return error_response(error::not_found, "the e-mail channel is off");
  if (actor.role != core::Role::customer)
    co_return error_response(error::forbidden, "customers ask for their own transcript");
  auto const* conv = body.if_contains("conversation_id");
  if (!conv || !conv->is_string() || conv->get_string().empty() || conv->get_string().size() > protocol::max_id_chars)
    co_return error_response(error::bad_request, "conversation_id must be a conversation id");
  std::string id(conv->get_string());
  auto c = co_await d_.store.conversation_contact(id);
  if (!c) co_return from_failure(c.failure());
  if (!*c || (*c)->visitor != actor.user_id) co_return error_response(error::not_found, "no such conversation");
  auto to = mail::address_of((*c)->email);
  if (!to) co_return error_response(error::conflict, "there is no e-mail address to send it to");
  std::string lately = d_.store.keys().mail_transcript(id);
  auto once = co_await d_.store.mark_once(lately, transcript_every_s);
  if (!once) co_return from_failure(once.failure());
  if (!*once) co_return error_response(error::rate_limited, "the transcript was sent a moment ago");
  auto lines = co_await d_.store.transcript(id);
  if (!lines) co_return from_failure(lines.failure());
  std::string text = "The transcript of your chat (times in UTC):\n\n";
  for (auto const& l : *lines)
    text += "[" + clock_time(l.ts) + "] " + (l.name.empty() ? l.role : l.name) + ": " + l.text + "\n";
  store::Mail m;
  m.id = random_id("m_");
  m.kind = "transcript";
  m.to = *to;
  m.to_name = (*c)->name;
  m.subject = "Your chat transcript";
  m.body = text;
  m.message_id = "<" + m.id + "@" + domain() + ">";
  m.conversation_id = id;
  auto q = co_await enqueue(m);
  if (!q) co_return from_failure(q.failure());
  json::object out;
  out["status"] = "queued";
  out["to"] = *to;
  co_return json_response(202, out);
}

// The SMTP transaction on the pool's thread (libcurl blocks); its result
// handed back on this process's executor. Only plain values cross threads.
asio::awaitable<SmtpResult> Mailer::smtp(std::string rcpt, std::string envelope, std::string text) {
  auto settings = smtp_;
  auto back = d_.executor;
  return asio::async_initiate<decltype(asio::use_awaitable), void(SmtpResult)>(
      [this, back, settings = std::move(settings), rcpt = std::move(rcpt), envelope = std::move(envelope),
       text = std::move(text)](auto handler) mutable {
        asio::post(pool_, [handler = std::move(handler), back, settings = std::move(settings), rcpt = std::move(rcpt),
                           envelope = std::move(envelope), text = std::move(text)]() mutable {
          auto result = smtp_send(settings, envelope, rcpt, text);
          asio::post(back, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      asio::use_awaitable);
}

asio::awaitable<void> Mailer::count_waiting() {
  auto n = co_await d_.store.waiting();
  if (n) *waiting_ = static_cast<double>(*n);
}

// Every 200 ms: the due mails, up to max_in_flight at once (and, every
// 2 s, the queue's length for /metrics).
asio::awaitable<void> Mailer::pump() {
  if (auto now = d_.clock.now(); now - counted_at_ >= count_every_ms) {
    counted_at_ = now;
    co_await count_waiting();
  }
  int room = d_.config.max_in_flight - in_flight_;
  if (room <= 0) co_return;
  // Long enough for one attempt and its record: a process that dies
  // sending holds a mail back no longer than this.
  core::Millis lease = 2LL * d_.config.timeout_ms + 1'000;
  auto due = co_await d_.store.claim(d_.clock.now(), lease, room);
  if (!due) co_return;
  for (auto& [id, attempt] : *due) {
    ++in_flight_;
    asio::co_spawn(d_.executor, send(id), [this](std::exception_ptr e) {
      --in_flight_;
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (std::exception const& x) {
          spdlog::error("mail: a sending failed: {}", x.what());
        }
      }
    });
  }
}

asio::awaitable<void> Mailer::send(std::string id) {
  auto m = co_await d_.store.get(id);
  if (!m || !*m || (*m)->status != "queued") co_return;
  auto const& mail_ = **m;
  mail::Outgoing out;
  out.from = d_.config.from;
  out.to = mail_.to;
  out.to_name = mail_.to_name;
  out.reply_to = mail_.reply_to;
  out.subject = mail_.subject;
  out.message_id = mail_.message_id;
  out.in_reply_to = mail_.in_reply_to;
  for (std::size_t pos = 0; pos < mail_.references.size();) {
    auto sp = mail_.references.find(' ', pos);
    auto ref = mail_.references.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    if (!ref.empty()) out.references.push_back(ref);
    pos = sp == std::string::npos ? mail_.references.size() : sp + 1;
  }
  out.body = mail_.body;
  auto text = mail::render(out, d_.clock.now());
  auto envelope = mail::address_of(d_.config.from).value_or("");
  auto r = co_await smtp(mail_.to, envelope, std::move(text));
  auto now = d_.clock.now();
  // A mail a supervisor queued again gets a new round: its give-up time
  // and its backoff count from the retry.
  auto since = std::max(mail_.created_at, mail_.retried_at.value_or(0));
  bool too_old = now - since >= d_.config.give_up_after_s * 1000LL;
  auto round = std::max<std::int64_t>(1, mail_.attempts - mail_.retried_after);
  store::MailOutcome o;
  o.id = id;
  o.attempt = mail_.attempts;
  o.sent = r.sent;
  o.give_up = !r.sent && (r.permanent || too_old);
  o.now = now;
  o.next_try = now + core::webhook::retry_delay(backoff_, static_cast<int>(round), spread());
  o.code = r.code;
  o.error = r.error;
  o.retention = d_.config.retention_s * 1000LL;
  ++*(r.sent ? sent_ : failed_);
  if (r.sent) spdlog::info("mail: {} ({}) sent to {}", id, mail_.kind, mail_.to);
  else
    spdlog::warn("mail: {} to {} failed (attempt {}{}): {}", id, mail_.to, mail_.attempts,
                 o.give_up ? ", given up" : "", r.error);
  auto done = co_await d_.store.finish(o);
  if (!done) spdlog::error("mail: the outcome of {} was not recorded: {}", id, done.failure().message);
}

// ------------------------------------------------------ the queue's view

asio::awaitable<net::HttpResponse> Mailer::http(Actor actor, std::string method, std::string rest, Query query) {
  if (actor.role != core::Role::supervisor)
    co_return error_response(error::forbidden, "the mail queue is seen by supervisors");
  if (rest.empty() || rest == "/") {
    if (method != "GET") co_return error_response(error::bad_request, "use GET");
    store::MailQuery q;
    q.status = query_value(query, "status");
    if (!q.status.empty() && q.status != "queued" && q.status != "sent" && q.status != "failed")
      co_return error_response(error::bad_request, "status must be queued, sent or failed");
    auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
    if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
    q.limit = static_cast<int>(*limit);
    // `before`: a time (ms), mails queued strictly before it; or the
    // previous page's next_cursor, "<time>:<id>", which also tells mails
    // queued in the same millisecond apart.
    if (auto before = query_value(query, "before"); !before.empty()) {
      auto colon = before.find(':');
      auto at = parse_number(before.substr(0, colon), 0, 1LL << 53);
      std::string after = colon == std::string::npos ? std::string() : before.substr(colon + 1);
      if (!at || (colon != std::string::npos && (after.empty() || after.size() > protocol::max_id_chars)))
        co_return error_response(error::bad_request, "before must be a time in ms or a next_cursor");
      q.before = (after.empty() ? "(" : "") + std::to_string(*at);
      q.after_id = std::move(after);
    }
    auto page = co_await d_.store.list(q);
    if (!page) co_return from_failure(page.failure());
    json::array items;
    for (auto const& m : page->items) items.push_back(mail_json(m));
    json::object out;
    out["items"] = std::move(items);
    out["next_cursor"] = page->next_cursor ? json::value(*page->next_cursor) : json::value(nullptr);
    co_return json_response(200, out);
  }
  auto slash = rest.find('/', 1);
  std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such mail");
  if (action == "/retry") {
    if (method != "POST") co_return error_response(error::bad_request, "use POST");
    auto r = co_await d_.store.retry(id, d_.clock.now(), actor.user_id);
    if (!r) co_return from_failure(r.failure());
    spdlog::info("mail: {} queued again by {}", id, actor.user_id);
  } else if (!action.empty()) {
    co_return error_response(error::not_found, "no such endpoint");
  } else if (method != "GET") {
    co_return error_response(error::bad_request, "use GET");
  }
  auto m = co_await d_.store.get(id);
  if (!m) co_return from_failure(m.failure());
  if (!*m) co_return error_response(error::not_found, "no such mail (or it has expired: mail.retention_s)");
  auto& mail_ = **m;
  if (mail_.status == "queued") {
    auto due = co_await d_.store.due_at(id);
    if (!due) co_return from_failure(due.failure());
    mail_.next_try_at = *due;
  }
  auto log = co_await d_.store.attempts(id);
  if (!log) co_return from_failure(log.failure());
  auto out = mail_json(mail_);
  json::array entries;
  for (auto const& a : *log) {
    json::object e;
    e["ts"] = a.ts;
    e["attempt"] = a.attempt;
    e["result"] = a.result;
    e["code"] = a.code ? json::value(a.code) : json::value(nullptr);
    e["error"] = text_or_null(a.error);
    e["next_try_at"] = time_or_null(a.next_try);
    entries.push_back(std::move(e));
  }
  out["attempt_log"] = std::move(entries);
  co_return json_response(200, out);
}

// -------------------------------------------------------------- incoming

namespace {

// A refusal of an inbound mail: the reason, counted.
net::HttpResponse refused(double* counter, protocol::error code, std::string_view why) {
  ++*counter;
  spdlog::warn("mail: an inbound reply was refused: {}", why);
  return error_response(code, why);
}

}  // namespace

asio::awaitable<net::HttpResponse> Mailer::inbound(std::optional<std::string> token, std::string raw) {
  if (d_.config.inbound_secret.empty()) co_return error_response(error::not_found, "inbound e-mail is off");
  if (!token || !constant_time_equal(*token, d_.config.inbound_secret))
    co_return refused(inbound_refused_, error::unauthorized, "POST /api/v1/mail/inbound needs mail.inbound_secret");
  auto m = mail::parse(raw);
  if (!m) co_return refused(inbound_refused_, error::bad_request, "the body is not an e-mail message (RFC 5322)");
  // Out-of-office answers and bounces are not the customer writing: taking
  // them would also let two robots answer each other for ever.
  auto auto_submitted = lower(m->header("auto-submitted"));
  auto precedence = lower(m->header("precedence"));
  if ((!auto_submitted.empty() && auto_submitted != "no") || precedence == "bulk" || precedence == "junk" ||
      precedence == "list" || !m->header("x-autoreply").empty()) {
    json::object out;
    out["status"] = "ignored";
    out["reason"] = "an automatic message";
    co_return json_response(200, out);
  }
  auto from = mail::address_of(m->header("from"));
  if (!from) co_return refused(inbound_refused_, error::bad_request, "the message has no From address");
  // The receiving server's verdict on the sender, when it gives one.
  auto verdict = lower(m->header("authentication-results"));
  if (verdict.find("dmarc=fail") != std::string::npos || verdict.find("spf=fail") != std::string::npos)
    co_return refused(inbound_refused_, error::forbidden, "the receiving server found the sender forged (SPF/DMARC)");

  // The ticket: the signed token of the address it was sent to, else the thread.
  std::optional<std::string> ticket;
  bool tagged = false;
  std::vector<std::string> recipients;
  static constexpr char const* addressed[] = {"to", "cc", "delivered-to", "x-original-to", "envelope-to"};
  for (auto const* h : addressed)
    for (auto const& v : m->all(h))
      for (auto& a : mail::addresses_of(v)) recipients.push_back(std::move(a));
  if (!d_.config.reply_address.empty()) {
    for (auto const& a : recipients) {
      auto tag = mail::plus_tag(d_.config.reply_address, a);
      if (!tag) continue;
      tagged = true;
      ticket = verify_mail_reply_token(d_.token_secret, *tag);
      if (ticket) break;
    }
  }
  if (tagged && !ticket)
    co_return refused(inbound_refused_, error::forbidden, "the reply address carries a ticket token that is not ours");
  if (!ticket) {
    auto ids = mail::thread_ids(*m);
    if (ids.size() > 20) ids.resize(20);  // the newest: a long References header costs no more
    for (auto const& id : ids) {
      if (id.size() > 250) continue;
      auto t = co_await d_.store.ticket_of(id);
      if (!t) co_return from_failure(t.failure());
      if (*t) {
        ticket = **t;
        break;
      }
    }
  }
  if (!ticket) co_return refused(inbound_refused_, error::not_found, "the message names no ticket (no reply address, no thread)");
  auto contact = co_await d_.store.ticket_contact(*ticket);
  if (!contact) co_return from_failure(contact.failure());
  if (!*contact) co_return refused(inbound_refused_, error::not_found, "no such ticket");
  auto expected = mail::address_of((*contact)->email);
  if (!expected || *expected != *from)
    co_return refused(inbound_refused_, error::forbidden, "the sender is not the ticket's customer");
  if (!m->readable)
    co_return refused(inbound_refused_, error::bad_request, "the text is in a character set not read here (use UTF-8)");
  auto text = mail::trim_reply(m->body);
  if (text.empty()) co_return refused(inbound_refused_, error::bad_request, "the reply has no text of its own");
  if (text.size() > protocol::max_text_bytes) text = utf8_prefix(text, protocol::max_text_bytes);

  // The same mail delivered twice (the mail server retrying) is taken once.
  auto message_id = m->header("message-id");
  std::string seen;
  if (!message_id.empty()) {
    seen = d_.store.keys().mail_inbound(hmac_sha256_hex("inbound", message_id));
    auto first = co_await d_.store.mark_once(seen, inbound_remembered_s);
    if (!first) co_return from_failure(first.failure());
    if (!*first) {
      json::object out;
      out["status"] = "duplicate";
      co_return json_response(200, out);
    }
  }
  auto landed = co_await d_.reply(*ticket, (*contact)->conversation_id, (*contact)->requester, (*contact)->name, text);
  if (landed.empty()) {
    if (!seen.empty()) co_await d_.store.unmark(seen);
    co_return error_response(error::unavailable, "the reply could not be added: try again");
  }
  ++*inbound_accepted_;
  json::object out;
  out["status"] = "accepted";
  out["ticket_id"] = landed;
  out["text"] = text;
  co_return json_response(201, out);
}

}  // namespace exceed::app
