#include "store/mail.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

#include <algorithm>

namespace exceed::store {
namespace asio = boost::asio;

namespace {

// A mail's record as HGETALL or mail_list.lua gives it.
Mail mail_of(Fields const& f) {
  Mail m;
  m.id = f.text("id");
  m.kind = f.text("kind");
  m.to = f.text("to");
  m.to_name = f.text("to_name");
  m.subject = f.text("subject");
  m.body = f.text("body");
  m.message_id = f.text("message_id");
  m.in_reply_to = f.text("in_reply_to");
  m.references = f.text("references");
  m.reply_to = f.text("reply_to");
  m.ticket_id = f.text("ticket_id");
  m.conversation_id = f.text("conversation_id");
  m.status = f.text("status");
  m.attempts = f.integer("attempts");
  m.last_error = f.text("last_error");
  m.created_at = f.integer("created_at");
  m.sent_at = f.maybe_integer("sent_at");
  m.failed_at = f.maybe_integer("failed_at");
  m.retried_at = f.maybe_integer("retried_at");
  m.retried_by = f.text("retried_by");
  m.retried_after = f.integer("retried_after");
  m.next_try_at = f.maybe_integer("next_try_at");
  return m;
}

}  // namespace

asio::awaitable<Result<Done>> MailStore::enqueue(Mail const& m, core::Millis now, core::Millis trim_before) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.mail(m.id), k.mail_due(), k.mail_message_id(m.message_id), k.mail_index()};
  std::vector<std::string> args{m.id, std::to_string(now), m.ticket_id,
                                std::to_string(std::max<core::Millis>(0, trim_before)),
                                "id", m.id, "kind", m.kind, "to", m.to, "to_name", m.to_name,
                                "subject", m.subject, "body", m.body, "message_id", m.message_id,
                                "in_reply_to", m.in_reply_to, "references", m.references, "reply_to", m.reply_to,
                                "ticket_id", m.ticket_id, "conversation_id", m.conversation_id};
  auto r = co_await db_.run_keys(db_.scripts().mail_enqueue, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::vector<std::pair<std::string, std::int64_t>>>> MailStore::claim(core::Millis now,
                                                                                            core::Millis lease,
                                                                                            int max) {
  auto r = co_await db_.call(db_.scripts().mail_claim, std::to_string(now), std::to_string(lease), std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "mail_claim");
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (row.ok() && !row.at_end()) {
    auto id = row.text();
    auto attempt = row.integer();
    out.emplace_back(std::move(id), attempt);
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<std::optional<Mail>>> MailStore::get(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().mail(id));
  if (!r) co_return r.failure();
  auto f = Fields::read(*r, "mail");
  if (!f) co_return f.failure();
  if (f->empty()) co_return std::optional<Mail>{};
  co_return std::optional<Mail>(mail_of(*f));
}

asio::awaitable<Result<Done>> MailStore::finish(MailOutcome const& o) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.mail(o.id), k.mail_due(), k.mail_log(o.id)};
  std::vector<std::string> args{o.id,
                                o.sent ? "1" : "0",
                                std::to_string(o.now),
                                std::to_string(o.next_try),
                                o.give_up ? "1" : "0",
                                o.error,
                                std::to_string(o.attempt),
                                std::to_string(o.code),
                                std::to_string(std::max<core::Millis>(1, o.retention)),
                                std::to_string(attempt_log_max)};
  auto r = co_await db_.run_keys(db_.scripts().mail_done, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<MailPage>> MailStore::list(MailQuery const& q) {
  auto r = co_await db_.call(db_.scripts().mail_list, q.before, q.after_id, q.status, std::to_string(q.limit),
                             std::to_string(scan_budget));
  if (!r) co_return r.failure();
  Row row(*r, "mail_list");
  MailPage page;
  auto cursor = row.text();
  if (!cursor.empty()) page.next_cursor = std::move(cursor);
  while (row.ok() && !row.at_end()) {
    auto f = Fields::read(row.nested(), "mail_list");
    if (!f) co_return f.failure();
    page.items.push_back(mail_of(*f));
  }
  if (!row.ok()) co_return row.failure();
  co_return page;
}

asio::awaitable<Result<std::vector<MailAttempt>>> MailStore::attempts(std::string const& id) {
  auto r = co_await db_.cmd("XREVRANGE", db_.keys().mail_log(id), "+", "-", "COUNT", std::to_string(attempt_log_max));
  if (!r) co_return r.failure();
  Row row(*r, "mail log");
  std::vector<MailAttempt> out;
  while (row.ok() && !row.at_end()) {
    Row e(row.nested(), "mail log");
    e.text();
    auto f = Fields::read(e.nested(), "mail log");
    if (!e.ok()) co_return e.failure();
    if (!f) co_return f.failure();
    MailAttempt a;
    a.ts = f->integer("ts");
    a.attempt = f->integer("attempt");
    a.result = f->text("result");
    a.code = static_cast<long>(f->integer("code"));
    a.error = f->text("error");
    a.next_try = f->maybe_integer("next_try");
    out.push_back(std::move(a));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<std::optional<core::Millis>>> MailStore::due_at(std::string const& id) {
  auto r = co_await db_.cmd("ZSCORE", db_.keys().mail_due(), id);
  if (!r) co_return r.failure();
  if (r->is_nil()) co_return std::optional<core::Millis>{};
  auto at = parse_integer(r->str);
  if (!at) co_return Failure::protocol("mail due time: expected a number, got '" + r->str + "'");
  co_return std::optional<core::Millis>(*at);
}

asio::awaitable<Result<Done>> MailStore::retry(std::string const& id, core::Millis now, std::string const& who) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.mail(id), k.mail_due(), k.mail_log(id), k.mail_index()};
  std::vector<std::string> args{id, std::to_string(now), who};
  auto r = co_await db_.run_keys(db_.scripts().mail_retry, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::int64_t>> MailStore::waiting() {
  auto r = co_await db_.cmd("ZCARD", db_.keys().mail_due());
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("mail queue length: expected an integer");
  co_return r->integer;
}

asio::awaitable<Result<std::optional<TicketContact>>> MailStore::ticket_contact(std::string const& ticket_id) {
  auto t = co_await db_.cmd("HMGET", db_.keys().ticket(ticket_id), "subject", "requester", "conversation",
                            "mail_thread", "mail_refs", "id");
  if (!t) co_return t.failure();
  Row row(*t, "ticket contact");
  TicketContact c;
  c.subject = row.text();
  c.requester = row.text();
  c.conversation_id = row.text();
  c.thread = row.text();
  c.references = row.text();
  auto exists = row.maybe_text();
  if (!row.ok()) co_return row.failure();
  if (!exists) co_return std::optional<TicketContact>{};
  if (!c.requester.empty()) {
    auto v = co_await db_.cmd("HMGET", db_.keys().visitor(c.requester), "email", "name");
    if (!v) co_return v.failure();
    Row vr(*v, "visitor contact");
    c.email = vr.text();
    c.name = vr.text();
    if (!vr.ok()) co_return vr.failure();
  }
  co_return std::optional<TicketContact>(std::move(c));
}

asio::awaitable<Result<std::optional<ConversationContact>>> MailStore::conversation_contact(std::string const& id) {
  auto r = co_await db_.cmd("HMGET", db_.keys().conversation(id), "visitor", "ticket");
  if (!r) co_return r.failure();
  Row row(*r, "conversation contact");
  ConversationContact c;
  auto visitor = row.maybe_text();
  c.ticket_id = row.text();
  if (!row.ok()) co_return row.failure();
  if (!visitor) co_return std::optional<ConversationContact>{};
  c.visitor = *visitor;
  auto v = co_await db_.cmd("HMGET", db_.keys().visitor(c.visitor), "email", "name");
  if (!v) co_return v.failure();
  Row vr(*v, "visitor contact");
  c.email = vr.text();
  c.name = vr.text();
  if (!vr.ok()) co_return vr.failure();
  co_return std::optional<ConversationContact>(std::move(c));
}

asio::awaitable<Result<Done>> MailStore::thread_on(std::string const& ticket_id, std::string const& message_id,
                                                   std::string const& references) {
  auto r = co_await db_.cmd("HSET", db_.keys().ticket(ticket_id), "mail_thread", message_id, "mail_refs", references);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::optional<std::string>>> MailStore::ticket_of(std::string const& message_id) {
  auto r = co_await db_.cmd("GET", db_.keys().mail_message_id(message_id));
  if (!r) co_return r.failure();
  if (r->is_nil()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>(r->str);
}

asio::awaitable<Result<std::vector<TranscriptLine>>> MailStore::transcript(std::string const& conversation_id) {
  auto r = co_await db_.cmd("XRANGE", db_.keys().messages(conversation_id), "-", "+", "COUNT", "2000");
  if (!r) co_return r.failure();
  Row row(*r, "transcript");
  std::vector<TranscriptLine> out;
  while (row.ok() && !row.at_end()) {
    Row e(row.nested(), "transcript");
    e.text();
    auto f = Fields::read(e.nested(), "transcript");
    if (!e.ok()) co_return e.failure();
    if (!f) co_return f.failure();
    out.push_back({f->integer("ts"), std::string(f->text("role")), std::string(f->text("name")),
                   std::string(f->text("text"))});
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<bool>> MailStore::mark_once(std::string const& key, int ttl_s) {
  auto r = co_await db_.cmd("SET", key, "1", "NX", "EX", std::to_string(ttl_s));
  if (!r) co_return r.failure();
  co_return !r->is_nil();
}

asio::awaitable<Result<Done>> MailStore::unmark(std::string const& key) {
  auto r = co_await db_.cmd("DEL", key);
  if (!r) co_return r.failure();
  co_return Done{};
}

}  // namespace exceed::store
