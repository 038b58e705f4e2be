// The mail store against a real Redis: what a sending's outcome leaves in
// the record and in its attempt log, when a finished mail expires, the
// supervisors' list (newest first, by status, paged, expired entries
// dropped), and a failed mail queued again. Time is passed in; only the
// retention is Redis's own clock.
// scripts: mail_claim.lua mail_done.lua mail_enqueue.lua mail_list.lua mail_retry.lua
#include "live_store.hpp"
#include "store/mail.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::MailStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;
constexpr core::Millis day = 86'400'000;

store::Mail mail(std::string id, std::string to = "casey@example.com") {
  store::Mail m;
  m.id = std::move(id);
  m.kind = "ticket_reply";
  m.to = std::move(to);
  m.to_name = "Casey";
  m.subject = "Re: Refund [t_1]";
  m.body = "The refund was sent today.";
  m.message_id = "<" + m.id + ".t_1@shop.example>";
  m.ticket_id = "t_1";
  m.conversation_id = "c_1";
  return m;
}

store::MailOutcome outcome(std::string id, std::int64_t attempt, core::Millis now) {
  store::MailOutcome o;
  o.id = std::move(id);
  o.attempt = attempt;
  o.now = now;
  o.retention = 30 * day;
  return o;
}

store::MailOutcome sent(std::string id, std::int64_t attempt, core::Millis now) {
  auto o = outcome(std::move(id), attempt, now);
  o.sent = true;
  o.code = 250;
  return o;
}

store::MailOutcome retry(std::string id, std::int64_t attempt, core::Millis now, core::Millis next) {
  auto o = outcome(std::move(id), attempt, now);
  o.next_try = next;
  o.error = "Couldn't connect to server";
  return o;
}

store::MailOutcome failed(std::string id, std::int64_t attempt, core::Millis now) {
  auto o = outcome(std::move(id), attempt, now);
  o.give_up = true;
  o.code = 550;
  o.error = "Failed sending data to the peer: RCPT failed: 550 (SMTP 550)";
  return o;
}

std::vector<std::string> ids(store::MailPage const& p) {
  std::vector<std::string> out;
  for (auto const& m : p.items) out.push_back(m.id);
  return out;
}

store::MailQuery query(std::string status = "", int limit = 50) {
  store::MailQuery q;
  q.status = std::move(status);
  q.limit = limit;
  return q;
}

}  // namespace

TEST_CASE("each attempt is logged with the outcome, and a sent mail expires after the retention") {
  test::LiveStore s;
  MailStore m(s.db());
  REQUIRE(s.wait(m.enqueue(mail("m_1"), t0, 0)));
  auto claimed = s.wait(m.claim(t0, 60'000, 10));
  REQUIRE(claimed->size() == 1);
  CHECK(claimed->at(0).second == 1);
  REQUIRE(s.wait(m.finish(retry("m_1", 1, t0 + 100, t0 + 5'100))));
  auto queued = s.wait(m.get("m_1"))->value();
  CHECK(queued.status == "queued");
  CHECK(queued.last_error == "Couldn't connect to server");
  CHECK(*s.wait(m.due_at("m_1")) == std::optional<core::Millis>(t0 + 5'100));
  CHECK(s.raw("PTTL", "exceed:mail:m_1").integer == -1);  // a queued mail does not expire

  REQUIRE(s.wait(m.claim(t0 + 5'100, 60'000, 10))->at(0).second == 2);
  REQUIRE(s.wait(m.finish(sent("m_1", 2, t0 + 5'200))));
  auto done = s.wait(m.get("m_1"))->value();
  CHECK(done.status == "sent");
  CHECK(done.sent_at == std::optional<core::Millis>(t0 + 5'200));
  CHECK_FALSE(done.failed_at);
  CHECK_FALSE(*s.wait(m.due_at("m_1")));
  auto log = s.wait(m.attempts("m_1"));
  REQUIRE(log->size() == 2);
  CHECK(log->at(0).attempt == 2);  // newest first
  CHECK(log->at(0).result == "sent");
  CHECK(log->at(0).code == 250);
  CHECK_FALSE(log->at(0).next_try);
  CHECK(log->at(1).attempt == 1);
  CHECK(log->at(1).result == "retry");
  CHECK(log->at(1).code == 0);
  CHECK(log->at(1).error == "Couldn't connect to server");
  CHECK(log->at(1).next_try == std::optional<core::Millis>(t0 + 5'100));
  // The record and its log are kept for the retention, no longer.
  for (auto const* key : {"exceed:mail:m_1", "exceed:mail:m_1:log"}) {
    auto ttl = s.raw("PTTL", key).integer;
    CHECK(ttl > 29 * day);
    CHECK(ttl <= 30 * day);
  }
  SECTION("an outcome reported again for a finished mail changes nothing") {
    REQUIRE(s.wait(m.finish(failed("m_1", 2, t0 + 6'000))));
    CHECK(s.wait(m.get("m_1"))->value().status == "sent");
    CHECK(s.wait(m.attempts("m_1"))->size() == 2);
  }
}

TEST_CASE("a mail's attempt log keeps its last 20 attempts") {
  test::LiveStore s;
  MailStore m(s.db());
  REQUIRE(s.wait(m.enqueue(mail("m_1"), t0, 0)));
  for (int i = 1; i <= 25; ++i) REQUIRE(s.wait(m.finish(retry("m_1", i, t0 + i, t0 + i + 1))));
  REQUIRE(s.wait(m.finish(failed("m_1", 26, t0 + 30))));
  auto log = s.wait(m.attempts("m_1"));
  REQUIRE(log->size() == static_cast<std::size_t>(MailStore::attempt_log_max));
  CHECK(log->front().attempt == 26);
  CHECK(log->front().result == "failed");
  CHECK(log->front().code == 550);
  CHECK(log->back().attempt == 7);
  CHECK(s.raw("XLEN", "exceed:mail:m_1:log").integer == MailStore::attempt_log_max);
}

TEST_CASE("the list shows mails newest first, by status, a page at a time, without their bodies") {
  test::LiveStore s;
  MailStore m(s.db());
  REQUIRE(s.wait(m.enqueue(mail("m_a"), t0, 0)));
  REQUIRE(s.wait(m.enqueue(mail("m_b"), t0 + 10, 0)));
  REQUIRE(s.wait(m.enqueue(mail("m_c"), t0 + 10, 0)));  // the same millisecond
  REQUIRE(s.wait(m.enqueue(mail("m_d"), t0 + 20, 0)));
  REQUIRE(s.wait(m.finish(sent("m_a", 1, t0 + 30))));
  REQUIRE(s.wait(m.finish(failed("m_d", 1, t0 + 30))));
  REQUIRE(s.wait(m.finish(retry("m_b", 1, t0 + 30, t0 + 90))));

  auto all = s.wait(m.list(query()));
  REQUIRE(all);
  CHECK(ids(*all) == std::vector<std::string>{"m_d", "m_c", "m_b", "m_a"});
  CHECK_FALSE(all->next_cursor);
  CHECK(all->items[0].status == "failed");
  CHECK(all->items[0].failed_at == std::optional<core::Millis>(t0 + 30));
  CHECK(all->items[0].last_error.find("550") != std::string::npos);
  CHECK(all->items[0].body.empty());
  CHECK(all->items[0].to == "casey@example.com");
  CHECK(all->items[0].ticket_id == "t_1");
  CHECK(all->items[2].next_try_at == std::optional<core::Millis>(t0 + 90));
  CHECK(all->items[3].sent_at == std::optional<core::Millis>(t0 + 30));

  CHECK(ids(*s.wait(m.list(query("failed")))) == std::vector<std::string>{"m_d"});
  CHECK(ids(*s.wait(m.list(query("queued")))) == std::vector<std::string>{"m_c", "m_b"});
  CHECK(ids(*s.wait(m.list(query("sent")))) == std::vector<std::string>{"m_a"});

  SECTION("pages follow the cursor, mails of the same millisecond neither lost nor repeated") {
    std::vector<std::string> seen;
    auto q = query("", 1);
    for (int page = 0; page < 10; ++page) {
      auto p = s.wait(m.list(q));
      REQUIRE(p);
      for (auto const& id : ids(*p)) seen.push_back(id);
      if (!p->next_cursor) break;
      auto colon = p->next_cursor->find(':');
      q.before = p->next_cursor->substr(0, colon);
      q.after_id = p->next_cursor->substr(colon + 1);
    }
    CHECK(seen == std::vector<std::string>{"m_d", "m_c", "m_b", "m_a"});
  }
  SECTION("an expired record's entry is dropped from the index when the list meets it") {
    s.raw("DEL", "exceed:mail:m_a");
    CHECK(ids(*s.wait(m.list(query()))) == std::vector<std::string>{"m_d", "m_c", "m_b"});
    CHECK(s.raw("ZSCORE", "exceed:mail:index", "m_a").is_nil());
    CHECK(s.raw("ZCARD", "exceed:mail:index").integer == 3);
  }
  SECTION("entries older than any record can live are trimmed when a mail is queued") {
    REQUIRE(s.wait(m.enqueue(mail("m_e"), t0 + 100, t0 + 15)));
    CHECK(s.raw("ZRANGE", "exceed:mail:index", "0", "-1").elements.size() == 2);  // m_d and m_e
  }
}

TEST_CASE("a failed mail is queued again at once, and only a failed one") {
  test::LiveStore s;
  MailStore m(s.db());
  REQUIRE(s.wait(m.enqueue(mail("m_1"), t0, 0)));
  REQUIRE(s.wait(m.enqueue(mail("m_2"), t0 + 1, 0)));
  CHECK(s.wait(m.retry("m_1", t0 + 10, "u_sue")).failure().refusal == core::Refusal::conflict);  // queued
  CHECK(s.wait(m.retry("m_none", t0 + 10, "u_sue")).failure().refusal == core::Refusal::not_found);
  REQUIRE(s.wait(m.claim(t0 + 1, 60'000, 10))->size() == 2);
  REQUIRE(s.wait(m.finish(retry("m_1", 1, t0 + 5, t0 + 50))));
  REQUIRE(s.wait(m.claim(t0 + 50, 60'000, 10))->size() == 1);
  REQUIRE(s.wait(m.finish(failed("m_1", 2, t0 + 60))));
  CHECK(*s.wait(m.waiting()) == 1);
  CHECK(s.raw("PTTL", "exceed:mail:m_1").integer > 0);

  REQUIRE(s.wait(m.retry("m_1", t0 + 1'000, "u_sue")));
  auto again = s.wait(m.get("m_1"))->value();
  CHECK(again.status == "queued");
  CHECK(again.retried_at == std::optional<core::Millis>(t0 + 1'000));
  CHECK(again.retried_by == "u_sue");
  CHECK(again.retried_after == 2);
  CHECK_FALSE(again.failed_at);
  CHECK(*s.wait(m.due_at("m_1")) == std::optional<core::Millis>(t0 + 1'000));
  CHECK(*s.wait(m.waiting()) == 2);
  // It no longer expires, and it is at the top of the list.
  CHECK(s.raw("PTTL", "exceed:mail:m_1").integer == -1);
  CHECK(s.raw("PTTL", "exceed:mail:m_1:log").integer == -1);
  CHECK(ids(*s.wait(m.list(query()))) == std::vector<std::string>{"m_1", "m_2"});
  CHECK(s.wait(m.retry("m_1", t0 + 1'001, "u_sue")).failure().refusal == core::Refusal::conflict);
  auto claimed = s.wait(m.claim(t0 + 1'000, 60'000, 10));  // m_2 is still leased
  REQUIRE(claimed->size() == 1);
  CHECK(claimed->at(0) == std::pair<std::string, std::int64_t>("m_1", 3));
}
