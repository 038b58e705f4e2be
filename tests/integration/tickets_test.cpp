// Tickets through the real server: made from a chat nobody could take, by
// an agent, or over REST; replies reaching the customer; status rules;
// filters and paging; who may see what.
#include "harness.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

struct Api {
  std::uint16_t port;
  HttpResult operator()(std::string const& method, std::string const& target, std::string const& token,
                        std::string const& body = "") const {
    return http(port, method, target, body, {{"Authorization", "Bearer " + token}});
  }
};

auto ticket_event(std::string const& type, std::string const& id) {
  return [type, id](Frame const& f) { return is_type(f, type) && f.at("ticket").at("id").as_string() == id; };
}

bool has_reason_code(json::value const& assessment, std::string const& code) {
  for (auto const& r : assessment.at("reasons").as_array())
    if (r.at("code").as_string() == code) return true;
  return false;
}


}  // namespace

TEST_CASE("a chat nobody online can take becomes a ticket, and the customer is told and gets the replies") {
  Deployment d;
  d.user("ann", "agent", "support");
  d.user("sam", "agent", "sales");
  auto ann = agent(d.port(), "ann", false);  // connected, but not online
  auto sam = agent(d.port(), "sam");
  auto casey = customer(d.port());
  auto ack = casey->request(frame({{"type", "conversation.start"}, {"text", "My order never arrived"}}));
  REQUIRE(ok(ack));
  REQUIRE(str(ack, "status") == "ticket");
  REQUIRE(str(ack, "reason") == "offline");
  auto conv = str(ack, "conversation_id");
  auto ticket = str(ack, "ticket_id");
  auto notice = casey->expect([](Frame const& f) { return is_type(f, "message") && f.at("from").at("role") == "system"; });
  // It says what happens in words; the ticket's internal id is not the customer's business.
  REQUIRE(str(notice, "text").find("Nobody from our team is online") != std::string::npos);
  REQUIRE(str(notice, "text").find(ticket) == std::string::npos);
  REQUIRE(casey->expect_type("conversation.ticket").at("reason").as_string() == "offline");

  // The team's agents hear of it; another team's do not.
  auto created = ann->expect(ticket_event("ticket.created", ticket));
  REQUIRE(created.at("ticket").at("status").as_string() == "new");
  REQUIRE(created.at("ticket").at("requester").at("id").as_string() == casey.id);
  REQUIRE(created.at("ticket").at("conversation_id").as_string() == conv);
  REQUIRE(sam->none(ticket_event("ticket.created", ticket), 300ms));

  Api api{d.port()};
  auto reply = api("POST", "/api/v1/tickets/" + ticket + "/comments", ann.token, R"({"text":"We are on it: a new parcel ships today.","public":true})");
  REQUIRE(reply.status == 201);
  auto m = casey->expect_type("message");
  REQUIRE(str(m, "text") == "We are on it: a new parcel ships today.");
  REQUIRE(m.at("from").at("role").as_string() == "agent");
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/comments", ann.token, R"({"text":"Courier lost it again","public":false})").status == 201);
  REQUIRE(casey->none([](Frame const& f) { return is_type(f, "message") && f.at("text") == "Courier lost it again"; }, 300ms));
  ann->expect([](Frame const& f) { return is_type(f, "ticket.commented") && f.at("comment").at("public") == false; });

  // Away and back: the public reply is waiting in the history, the note is not.
  casey->close();
  casey.reconnect();
  auto h = history(casey, conv);
  REQUIRE(h.back().at("text").as_string() == "We are on it: a new parcel ships today.");
  for (auto const& msg : h) REQUIRE(msg.at("text").as_string() != "Courier lost it again");
  auto comments = api("GET", "/api/v1/tickets/" + ticket + "/comments", casey.token).json().at("items").as_array();
  REQUIRE(comments.size() == 1);
  REQUIRE(api("GET", "/api/v1/tickets/" + ticket + "/events", casey.token).status == 403);

  SECTION("starting again while nobody is online answers the same ticket, and opens no other") {
    auto again = casey->request(frame({{"type", "conversation.start"}, {"text", "Hello?"}}));
    REQUIRE(str(again, "status") == "ticket");
    REQUIRE(str(again, "conversation_id") == conv);
    REQUIRE(str(again, "ticket_id") == ticket);
    REQUIRE(api("GET", "/api/v1/tickets", casey.token).json().at("items").as_array().size() == 1);
  }
  SECTION("once someone is online, starting again makes the same conversation live, its ticket still linked") {
    REQUIRE(ok(ann->request(frame({{"type", "agent.status"}, {"status", "online"}}))));
    auto again = casey->request(frame({{"type", "conversation.start"}, {"text", "Anyone there now?"}}));
    REQUIRE(str(again, "status") == "queued");
    REQUIRE(str(again, "conversation_id") == conv);
    REQUIRE(str(again, "ticket_id") == ticket);
    accept(ann, conv);
    auto h = history(ann, conv);
    REQUIRE(h.back().at("text").as_string() == "Anyone there now?");
    REQUIRE(ok(send(ann, conv, "I am here: your parcel ships today.", "a-live")));
    REQUIRE(api("GET", "/api/v1/tickets/" + ticket, ann.token).json().at("conversation_id").as_string() == conv);
  }
  SECTION("the customer's reply reopens a pending ticket") {
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, ann.token, R"({"status":"pending"})").json().at("status") == "pending");
    REQUIRE(ok(send(casey, conv, "Thanks, I will wait for it", "c-1")));
    ann->expect([&](Frame const& f) {
      return is_type(f, "ticket.updated") && f.at("ticket").at("id").as_string() == ticket && f.at("ticket").at("status") == "open";
    });
    REQUIRE(api("GET", "/api/v1/tickets/" + ticket, ann.token).json().at("status") == "open");
  }
  SECTION("closed is final: the customer's next message opens a follow-up ticket") {
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, ann.token, R"({"status":"solved"})").status == 200);
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, ann.token, R"({"status":"closed"})").status == 200);
    auto reopen = api("PATCH", "/api/v1/tickets/" + ticket, ann.token, R"({"status":"open"})");
    REQUIRE(reopen.status == 409);
    REQUIRE(reopen.json().at("error").at("message").as_string().find("closed is final") != std::string::npos);
    REQUIRE(ok(send(casey, conv, "It broke again", "c-2")));
    auto follow = ann->expect([&](Frame const& f) {
      return is_type(f, "ticket.created") && f.at("ticket").at("follow_up_of") == json::value(ticket);
    });
    REQUIRE(follow.at("ticket").at("conversation_id").as_string() == conv);
    REQUIRE(api("GET", "/api/v1/tickets/" + ticket, ann.token).json().at("status") == "closed");
  }
}

TEST_CASE("outside the team's business hours a chat becomes a ticket, whoever is online") {
  auto dir = make_temp_dir("exceed-hours-");
  std::ofstream(dir + "/exceed.toml") << "[teams.support]\ntime_zone = \"Europe/Berlin\"\nhours = [\"mon-sun 00:00-24:00\"]\n"
                                      << "days_off = [\"" << today_utc(-1) << "\", \"" << today_utc() << "\", \""
                                      << today_utc(1) << "\"]\n";
  Deployment d(Env{{"EXCEED_CONFIG", dir + "/exceed.toml"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");  // online, yet the team is closed today
  auto casey = customer(d.port());
  auto ack = casey->request(frame({{"type", "conversation.start"}, {"text", "Hello?"}}));
  REQUIRE(str(ack, "status") == "ticket");
  REQUIRE(str(ack, "reason") == "after_hours");
  auto notice = casey->expect([](Frame const& f) { return is_type(f, "message") && f.at("from").at("role") == "system"; });
  REQUIRE(str(notice, "text").find("We open again on") != std::string::npos);
  REQUIRE(str(notice, "text").find("Europe/Berlin") != std::string::npos);
  REQUIRE(ann->none([](Frame const& f) { return is_type(f, "conversation.offer"); }, 500ms));
}

namespace {

// The record's deadline for a customer's next-response wait, once it is no
// longer `armed` (what send.lua set), or `armed` after five seconds.
std::int64_t moved_deadline(Deployment& d, std::string const& conv, std::int64_t armed) {
  auto const key = "HGET exceed:conv:" + conv + " sla_due_next_response";
  auto until = std::chrono::steady_clock::now() + 5s;
  auto due = std::stoll(redis_cli(d.redis.port(), key));
  while (due == armed && std::chrono::steady_clock::now() < until) due = std::stoll(redis_cli(d.redis.port(), key));
  return due;
}

// Casey's chat with ann: answered once, then she writes again, which starts
// her next-response wait. Returns the ack of that message.
Frame customer_waits_again(Deployment& d) {
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "My parcel is late");
  accept(ann, conv);
  REQUIRE(ok(send(ann, conv, "Let me look", "a-1")));
  auto ack = send(casey, conv, "It was due on Monday", "c-2");
  REQUIRE(ok(ack));
  return ack;
}

}  // namespace

TEST_CASE("a customer's wait in a chat falls due in the team's business hours, not on the wall clock") {
  // The team is open today until two minutes from now, in a zone where it
  // is about noon (so the day does not end first); a 10-minute next-response
  // wait started now runs past closing and falls due the next morning.
  std::time_t const now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  int const offset_h = 12 - utc.tm_hour;  // local time = UTC + offset_h
  // The Etc zones' signs are POSIX's, inverted: Etc/GMT-3 is UTC+3.
  std::string const zone = offset_h == 0 ? std::string("Etc/UTC")
                                         : std::string("Etc/GMT") + (offset_h > 0 ? "-" : "+") + std::to_string(std::abs(offset_h));
  int const close_min = 12 * 60 + utc.tm_min + 2;
  std::string close = std::to_string(close_min / 60) + ":" + (close_min % 60 < 10 ? "0" : "") +
                      std::to_string(close_min % 60);
  auto dir = make_temp_dir("exceed-wait-hours-");
  std::ofstream(dir + "/exceed.toml") << "[teams.support]\ntime_zone = \"" << zone << "\"\nhours = [\"mon-sun 00:00-" << close
                                      << "\"]\n[sla.default]\nfirst_response_s = 60\nnext_response_s = 600\nresolution_s = 0\n"
                                      << "warning_ratio = 0.5\n";
  Deployment d(Env{{"EXCEED_CONFIG", dir + "/exceed.toml"}});
  auto const ack = customer_waits_again(d);
  auto const conv = str(ack, "conversation_id");
  std::int64_t const ts = ack.at("ts").as_int64();
  std::int64_t const wall = ts + 600'000;
  std::int64_t const local_day = 86'400'000;
  std::int64_t const offset_ms = offset_h * 3'600'000LL;
  std::int64_t const next_opening = ((ts + offset_ms) / local_day + 1) * local_day - offset_ms;  // local midnight
  auto const due = moved_deadline(d, conv, wall);
  INFO("zone " << zone << ", closing " << close << ", wait from " << ts);
  REQUIRE(due > next_opening);
  REQUIRE(due < next_opening + 600'000);  // the part of the 10 minutes left at closing
  REQUIRE(redis_cli(d.redis.port(), "ZSCORE exceed:sla '" + conv + "|next_response|breach'") == std::to_string(due));
  // The warning (half the target) moved too: it is no earlier than closing.
  auto const warn = std::stoll(redis_cli(d.redis.port(), "ZSCORE exceed:sla '" + conv + "|next_response|warn'"));
  REQUIRE(warn > ts + 300'000);
}

TEST_CASE("a customer's wait in a chat of a team without business hours runs on the wall clock") {
  Deployment d;
  auto const ack = customer_waits_again(d);
  auto const due = redis_cli(d.redis.port(), "HGET exceed:conv:" + str(ack, "conversation_id") + " sla_due_next_response");
  REQUIRE(due == std::to_string(ack.at("ts").as_int64() + 120'000));  // next_response_s = 120, the default
}

TEST_CASE("an agent turns a conversation into a ticket: the chat leaves their hands, history kept") {
  Deployment d;
  d.user("ann", "agent", "support", 1);
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "I need an invoice for last year");
  accept(ann, conv);
  REQUIRE(ok(send(ann, conv, "Accounting will send it; I'll make a ticket.", "a-1")));
  Api api{d.port()};
  auto r = api("POST", "/api/v1/tickets", ann.token, R"({"conversation_id":")" + conv + R"(","priority":"high","tags":["billing"]})");
  REQUIRE(r.status == 201);
  auto t = r.json().as_object();
  REQUIRE(t.at("subject").as_string() == "I need an invoice for last year");
  REQUIRE(t.at("via").as_string() == "chat");
  REQUIRE(t.at("priority").as_string() == "high");
  REQUIRE(casey->expect_type("conversation.ticket").at("ticket_id").as_string() == t.at("id").as_string());
  REQUIRE(ann->expect_type("conversation.unassigned").at("reason").as_string() == "ticketed");
  // Her slot is free again: the next chat is offered to her.
  auto other = customer(d.port(), "Next");
  auto next = start_chat(other, "hi");
  offer_for(ann, next);
  REQUIRE(api("POST", "/api/v1/tickets", ann.token, R"({"conversation_id":")" + conv + R"("})").status == 409);
}

TEST_CASE("tickets over REST: create, read, status rules, timeline, filters and cursor paging") {
  Deployment d;
  d.user("ann", "agent", "support,sales");
  d.user("sam", "agent", "sales");
  d.user("boss", "supervisor", "support");
  Api api{d.port()};
  auto ann = login(d.port(), "ann", "password123");
  auto sam = login(d.port(), "sam", "password123");
  auto boss = login(d.port(), "boss", "password123");
  auto [v1, v1_token] = new_visitor(d.port(), "Vic");
  auto [v2, v2_token] = new_visitor(d.port(), "Wen");

  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    std::string team = i % 2 ? "sales" : "support";
    auto body = R"({"subject":"Question )" + std::to_string(i) + R"(","requester_id":")" + (i < 4 ? v1 : v2) +
                R"(","team":")" + team + R"(","priority":")" + (i == 5 ? "urgent" : "normal") + R"(","tags":["t)" +
                std::to_string(i % 3) + R"("]})";
    auto r = api("POST", "/api/v1/tickets", boss, body);
    INFO(r.body);
    REQUIRE(r.status == 201);
    ids.emplace_back(r.json().at("id").as_string());
  }
  auto first = api("GET", "/api/v1/tickets/" + ids[0], ann).json();
  REQUIRE(first.at("status") == "new");
  REQUIRE(first.at("requester").at("name") == "Vic");

  SECTION("status moves and the timeline records each change") {
    auto patch = [&](std::string const& body) { return api("PATCH", "/api/v1/tickets/" + ids[0], ann, body); };
    REQUIRE(patch(R"({"status":"open","assignee_id":")" + std::string(api("GET", "/api/v1/tickets/" + ids[0], ann).status == 200 ? "" : "") + R"("})").status == 200);
    REQUIRE(patch(R"({"status":"pending","priority":"high"})").json().at("priority") == "high");
    REQUIRE(patch(R"({"status":"new"})").status == 409);
    REQUIRE(patch(R"({"status":"closed"})").status == 409);  // only a solved ticket closes
    REQUIRE(patch(R"({"status":"done"})").status == 400);
    REQUIRE(patch(R"({"priority":"whenever"})").status == 400);
    REQUIRE(patch(R"({"team":"nowhere"})").status == 400);
    auto solved = patch(R"({"status":"solved"})").json();
    REQUIRE(solved.at("solved_at").is_int64());
    // A solved ticket is assessed like a conversation, with its response clock.
    REQUIRE(solved.at("assessment").at("level").is_string());
    REQUIRE(solved.at("response_times").at("reopens").as_int64() == 0);
    REQUIRE(patch(R"({"status":"open"})").status == 200);  // reopened
    auto again = patch(R"({"status":"solved"})").json();
    REQUIRE(again.at("response_times").at("reopens").as_int64() == 1);  // the history of rounds is kept
    REQUIRE(has_reason_code(again.at("assessment"), "reopened"));
    auto events = api("GET", "/api/v1/tickets/" + ids[0] + "/events", ann).json().at("items").as_array();
    std::vector<std::string> what;
    for (auto const& e : events) what.emplace_back(e.at("what").as_string());
    REQUIRE(what == std::vector<std::string>{"created", "status", "status", "priority", "status", "status", "status"});
    REQUIRE(events[1].at("from") == "new");
    REQUIRE(events[1].at("to") == "open");
    REQUIRE(events[1].at("actor").as_string().find("agent:") == 0);
  }
  SECTION("filters") {
    auto count = [&](std::string const& q, std::string const& token) {
      auto r = api("GET", "/api/v1/tickets?" + q, token);
      INFO(r.body);
      REQUIRE(r.status == 200);
      return r.json().at("items").as_array().size();
    };
    REQUIRE(count("", boss) == 6);
    REQUIRE(count("team=sales", boss) == 3);
    REQUIRE(count("priority=urgent", boss) == 1);
    REQUIRE(count("tag=t0", boss) == 2);
    REQUIRE(count("requester=" + v2, boss) == 2);
    REQUIRE(count("status=new", boss) == 6);
    REQUIRE(count("assignee=none", boss) == 6);
    REQUIRE(count("", sam) == 3);  // sales only
    REQUIRE(count("", v1_token) == 4);
    REQUIRE(count("updated_since=2000-01-01T00:00:00Z", boss) == 6);
    REQUIRE(count("updated_since=4102444800000", boss) == 0);
    REQUIRE(api("GET", "/api/v1/tickets?status=nope", boss).status == 400);
    REQUIRE(api("GET", "/api/v1/tickets?updated_since=yesterday", boss).status == 400);
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ids[0], sam, R"({"status":"open"})").status == 403);
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ids[0], v1_token, R"({"status":"open"})").status == 403);
    REQUIRE(api("GET", "/api/v1/tickets/" + ids[0], v2_token).status == 403);
    REQUIRE(api("GET", "/api/v1/tickets/t_nope", boss).status == 404);
    REQUIRE(api("POST", "/api/v1/tickets", boss, R"({"requester_id":")" + v1 + R"("})").status == 400);  // no subject
  }
  SECTION("cursor paging, stable while tickets are created") {
    std::vector<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      auto r = api("GET", "/api/v1/tickets?limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor), boss).json();
      for (auto const& t : r.at("items").as_array()) seen.emplace_back(t.at("id").as_string());
      if (r.at("next_cursor").is_null()) break;
      cursor = std::string(r.at("next_cursor").as_string());
      REQUIRE(api("POST", "/api/v1/tickets", boss, R"({"subject":"Meanwhile","requester_id":")" + v1 + R"("})").status == 201);
    }
    REQUIRE(seen.size() == 6);
    REQUIRE(std::set<std::string>(seen.begin(), seen.end()) == std::set<std::string>(ids.begin(), ids.end()));
  }
  SECTION("a customer creates their own ticket and writes public replies only") {
    auto r = api("POST", "/api/v1/tickets", v2_token, R"({"subject":"Return label","comment":{"text":"Please send one"}})");
    REQUIRE(r.status == 201);
    REQUIRE(r.json().at("requester").at("id").as_string() == v2);
    auto id = std::string(r.json().at("id").as_string());
    REQUIRE(api("POST", "/api/v1/tickets/" + id + "/comments", v2_token, R"({"text":"secret","public":false})").status == 403);
    REQUIRE(api("POST", "/api/v1/tickets/" + id + "/comments", v1_token, R"({"text":"hi"})").status == 403);
  }
}

TEST_CASE("solved tickets close by themselves after the configured time") {
  Deployment d(Env{{"EXCEED_TICKETS_AUTO_CLOSE_AFTER_S", "1"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann", false);
  auto [v, vt] = new_visitor(d.port());
  Api api{d.port()};
  auto id = std::string(api("POST", "/api/v1/tickets", ann.token, R"({"subject":"Quick one","requester_id":")" + v + R"("})").json().at("id").as_string());
  REQUIRE(api("PATCH", "/api/v1/tickets/" + id, ann.token, R"({"status":"solved"})").status == 200);
  auto closed = ann->expect([&](Frame const& f) {
    return is_type(f, "ticket.updated") && f.at("ticket").at("id").as_string() == id && f.at("ticket").at("status") == "closed";
  }, 6s, "the ticket closing by itself");
  REQUIRE(closed.at("ticket").at("closed_at").is_int64());
}

TEST_CASE("a ticket runs its own SLA clock: warnings to supervisors, answers counted, solved in time") {
  Deployment d(config_env("[sla.default]\nfirst_response_s = 1\nwarning_ratio = 0.5\nresolution_s = 3600\n"));
  d.user("ann");
  d.user("boss", "supervisor");
  auto boss = agent(d.port(), "boss", false);
  auto casey = customer(d.port());
  auto ack = casey->request(frame({{"type", "conversation.start"}, {"text", "Nobody here?"}}));
  REQUIRE(str(ack, "status") == "ticket");
  auto ticket = str(ack, "ticket_id");
  auto warned = [&](bool breached) {
    return [&ticket, breached](Frame const& f) {
      return is_type(f, "sla.warning") && f.if_contains("ticket_id") && f.at("ticket_id").as_string() == ticket &&
             f.at("breached").as_bool() == breached;
    };
  };
  REQUIRE(boss->expect(warned(false), 5s, "the ticket's warning").at("metric").as_string() == "first_response");
  boss->expect(warned(true), 5s, "the ticket's breach");
  auto ann = login(d.port(), "ann", "password123");
  Api api{d.port()};
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/comments", ann, R"({"text":"Here now, sorry.","public":true})").status == 201);
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, ann, R"({"status":"solved"})").status == 200);
  auto boss_token = login(d.port(), "boss", "password123");
  auto report = api("GET", "/api/v1/reports/sla?team=support", boss_token).json();
  REQUIRE(report.at("first_response").at("breached").as_int64() == 1);
  REQUIRE(report.at("resolution").at("met").as_int64() == 1);
  auto t = api("GET", "/api/v1/tickets/" + ticket, ann).json();
  REQUIRE(t.at("sla_policy").as_string() == "default");
  REQUIRE(t.at("response_times").at("first_response_s").as_double() >= 1.0);
}
