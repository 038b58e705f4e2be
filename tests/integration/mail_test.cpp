// The e-mail channel through the real server and a real SMTP server on
// loopback (Debian's python3-aiosmtpd, STARTTLS and AUTH required): an
// agent's reply reaches the customer's mailbox, threaded, with a signed
// reply address, even when the mail server was down at first; the
// customer's answer, POSTed to the inbound endpoint, lands on the ticket
// without its quoted text; forged or unknown senders and bad secrets are
// refused with nothing stored. Supervisors see the queue: a mail the
// server never takes ends failed with each attempt logged and is sent
// again on their word; a finished mail is gone after mail.retention_s.
#include "harness.hpp"
#include "support/process.hpp"

#include "core/mail.hpp"

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace exceed::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace mail = exceed::core::mail;

namespace {

std::string const inbound_secret = "inbound-secret-0123456789";

bool have_aiosmtpd() { return std::system("/usr/bin/python3 -c 'import aiosmtpd' > /dev/null 2>&1") == 0; }

// Polls for a file the sink writes: it says nowhere else that it has written it.
bool appears(std::string const& path, std::chrono::milliseconds within = 20s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  return fs::exists(path);
}

std::string read_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Sink {
  std::string dir = make_temp_dir("exceed-smtp-");
  std::uint16_t port = free_port();
  std::unique_ptr<Process> process;
  Sink() {
    auto rc = std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + dir +
                           "/key.pem -out " + dir + "/cert.pem -days 1 -subj /CN=127.0.0.1 -addext "
                           "subjectAltName=IP:127.0.0.1 > /dev/null 2>&1")
                              .c_str());
    REQUIRE(rc == 0);
  }
  void start() {
    process = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/python3", std::string(EXCEED_SOURCE_DIR) + "/tests/support/smtp_sink.py",
                                 std::to_string(port), dir, dir + "/cert.pem", dir + "/key.pem", "exceed",
                                 "smtp-password"},
        std::vector<std::pair<std::string, std::string>>{}, dir + "/sink.log");
    REQUIRE(appears(dir + "/ready"));
  }
  // The n-th message received (1, 2, ...), parsed.
  mail::Incoming message(int n) {
    char name[16];
    std::snprintf(name, sizeof name, "/%04d.eml", n);
    REQUIRE(appears(dir + name));
    auto m = mail::parse(read_file(dir + name));
    REQUIRE(m);
    return *m;
  }
  std::size_t count() const {
    std::size_t n = 0;
    for (auto const& e : fs::directory_iterator(dir)) n += e.path().extension() == ".eml";
    return n;
  }
  Env env() const {
    return Env{{"EXCEED_MAIL_ENABLED", "true"},
               {"EXCEED_MAIL_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(port)},
               {"EXCEED_MAIL_SMTP_USERNAME", "exceed"},
               {"EXCEED_MAIL_SMTP_PASSWORD", "smtp-password"},
               {"EXCEED_MAIL_SMTP_CA_FILE", dir + "/cert.pem"},
               {"EXCEED_MAIL_FROM", "Shop support <support@shop.example>"},
               {"EXCEED_MAIL_REPLY_ADDRESS", "reply@shop.example"},
               {"EXCEED_MAIL_INBOUND_SECRET", inbound_secret},
               {"EXCEED_MAIL_PUBLIC_URL", "https://support.shop.example"},
               {"EXCEED_MAIL_RETRY_FIRST_MS", "100"},
               {"EXCEED_MAIL_RETRY_MAX_S", "1"}};
  }
};

std::vector<std::pair<std::string, std::string>> auth(std::string const& token,
                                                      std::string const& type = "application/json") {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", type}};
}

// A visitor who left an e-mail address: {id, token}.
std::pair<std::string, std::string> visitor_with_email(std::uint16_t port, std::string const& email) {
  auto r = http(port, "POST", "/api/v1/visitors", R"({"name":"Casey Customer","email":")" + email + R"("})",
                {{"Content-Type", "application/json"}});
  REQUIRE(r.status == 201);
  return {std::string(r.json().at("visitor_id").as_string()), std::string(r.json().at("token").as_string())};
}

std::string reply_text(std::string const& from, std::string const& to, std::string const& in_reply_to,
                       std::string const& message_id, std::string const& body) {
  std::string m = "From: " + from + "\r\nTo: " + to + "\r\nSubject: Re: Refund\r\nMessage-ID: " + message_id + "\r\n";
  if (!in_reply_to.empty()) m += "In-Reply-To: " + in_reply_to + "\r\nReferences: " + in_reply_to + "\r\n";
  return m + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body;
}

HttpResult inbound(std::uint16_t port, std::string const& raw, std::string const& secret = inbound_secret) {
  return http(port, "POST", "/api/v1/mail/inbound", raw, auth(secret, "message/rfc822"));
}

json::array comments(std::uint16_t port, std::string const& token, std::string const& ticket) {
  auto r = http(port, "GET", "/api/v1/tickets/" + ticket + "/comments", "", auth(token));
  REQUIRE(r.status == 200);
  return r.json().at("items").as_array();
}

// Reads with `read` until `done` holds for what it returns, up to `within`:
// how a test awaits what the server does in its own time (a mail sent, a
// record expired), seen through the API.
template <class Read, class Done>
auto read_until(Read read, Done done, std::chrono::milliseconds within = 20s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  auto v = read();
  while (!done(v) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    v = read();
  }
  return v;
}

HttpResult mail_list(std::uint16_t port, std::string const& token, std::string const& query = "") {
  return http(port, "GET", "/api/v1/mail" + query, "", auth(token));
}

bool has_items(HttpResult const& r) { return r.status == 200 && !r.json().at("items").as_array().empty(); }

// A customer's ticket and an agent's public reply on it, which is mailed to them: the ticket id.
std::string ticket_with_reply(std::uint16_t port, std::string const& customer, std::string const& agent) {
  auto t = http(port, "POST", "/api/v1/tickets", R"({"subject":"Refund","comment":{"text":"Where is my refund?"}})",
                auth(customer));
  REQUIRE(t.status == 201);
  std::string ticket(t.json().at("id").as_string());
  REQUIRE(http(port, "POST", "/api/v1/tickets/" + ticket + "/comments",
               R"({"text":"The refund was sent today.","public":true})", auth(agent))
              .status == 201);
  return ticket;
}

}  // namespace

TEST_CASE("an agent's reply is mailed threaded and the customer's answer by e-mail lands on the ticket") {
  if (!have_aiosmtpd()) {
    WARN("python3-aiosmtpd is missing (scripts/setup installs it): the e-mail test is skipped");
    return;
  }
  Sink sink;
  Deployment d(sink.env());
  d.user("ann");
  auto ann = login(d.port(), "ann", "password123");
  auto [casey_id, casey] = visitor_with_email(d.port(), "Casey@Example.com");
  auto t = http(d.port(), "POST", "/api/v1/tickets", R"({"subject":"Refund","comment":{"text":"Where is my refund?"}})",
                auth(casey));
  REQUIRE(t.status == 201);
  std::string ticket(t.json().at("id").as_string());

  // The mail server is down at first: the reply waits in the queue.
  auto c1 = http(d.port(), "POST", "/api/v1/tickets/" + ticket + "/comments",
                 R"({"text":"The refund was sent today: 25.00 EUR.","public":true})", auth(ann));
  REQUIRE(c1.status == 201);
  REQUIRE(http(d.port(), "POST", "/api/v1/tickets/" + ticket + "/comments",
               R"({"text":"Checked with accounting","public":false})", auth(ann))
              .status == 201);
  sink.start();
  auto first = sink.message(1);
  CHECK(first.header("x-sink-tls") == "yes");
  CHECK(first.header("x-sink-login") == "exceed");
  CHECK(first.header("x-sink-rcpt-to") == "casey@example.com");
  CHECK(first.header("x-sink-mail-from") == "support@shop.example");
  CHECK(first.header("from") == "Shop support <support@shop.example>");
  CHECK(first.header("subject") == "Re: Refund [" + ticket + "]");
  CHECK(first.header("auto-submitted") == "auto-generated");
  CHECK(first.body.find("The refund was sent today: 25.00 EUR.") != std::string::npos);
  auto reply_to = first.header("reply-to");
  REQUIRE(reply_to.rfind("reply+" + ticket + ".", 0) == 0);
  auto first_id = first.header("message-id");
  REQUIRE(first_id.find("@shop.example>") != std::string::npos);

  auto c2 = http(d.port(), "POST", "/api/v1/tickets/" + ticket + "/comments", R"({"text":"Did it arrive?"})",
                 auth(ann));
  REQUIRE(c2.status == 201);
  auto second = sink.message(2);
  CHECK(second.header("in-reply-to") == first_id);
  CHECK(second.header("references") == first_id);
  auto before = comments(d.port(), ann, ticket).size();

  SECTION("the answer, quoted text and signature trimmed, is the customer's public comment") {
    auto r = inbound(d.port(), reply_text("Casey <casey@example.com>", reply_to, second.header("message-id"),
                                          "<r1@example.com>",
                                          "Yes, it arrived. Thank you!\r\n\r\n-- \r\nCasey\r\n\r\nOn Sat, 5 Dec 2026 "
                                          "Ann wrote:\r\n> Did it arrive?\r\n"));
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(r.json().at("ticket_id").as_string() == ticket);
    auto all = comments(d.port(), ann, ticket);
    REQUIRE(all.size() == before + 1);
    auto const& last = all.back().as_object();
    CHECK(last.at("text").as_string() == "Yes, it arrived. Thank you!");
    CHECK(last.at("public").as_bool());
    CHECK(last.at("author").at("role").as_string() == "customer");
    // The mail server delivering it again changes nothing.
    auto again = inbound(d.port(), reply_text("Casey <casey@example.com>", reply_to, "", "<r1@example.com>",
                                              "Yes, it arrived. Thank you!\r\n"));
    CHECK(again.status == 200);
    CHECK(again.json().at("status").as_string() == "duplicate");
    CHECK(comments(d.port(), ann, ticket).size() == before + 1);
    // A customer's comment is not mailed back to them.
    CHECK(sink.count() == 2);
  }
  SECTION("a reply found by its thread alone, without the reply address, lands too") {
    auto r = inbound(d.port(), reply_text("casey@example.com", "support@shop.example", first_id, "<r2@example.com>",
                                          "Another question.\r\n"));
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(comments(d.port(), ann, ticket).size() == before + 1);
  }
  SECTION("forged and unknown senders, forged tokens and wrong secrets are refused, nothing stored") {
    auto refused = [&](HttpResult const& r, unsigned status, std::string const& words) {
      INFO(r.body);
      CHECK(r.status == status);
      CHECK(r.body.find(words) != std::string::npos);
    };
    refused(inbound(d.port(), reply_text("Mallory <mallory@evil.example>", reply_to, "", "<f1@evil.example>", "Hi\r\n")),
            403, "not the ticket's customer");
    auto forged = reply_to;
    auto at = forged.find('@');
    forged[at - 1] = forged[at - 1] == '0' ? '1' : '0';
    refused(inbound(d.port(), reply_text("casey@example.com", forged, "", "<f2@evil.example>", "Hi\r\n")), 403,
            "not ours");
    auto other_ticket = "reply+t_00000000000000000000." + reply_to.substr(reply_to.find('.') + 1);
    refused(inbound(d.port(), reply_text("casey@example.com", other_ticket, "", "<f3@evil.example>", "Hi\r\n")), 403,
            "not ours");
    refused(inbound(d.port(), reply_text("mallory@evil.example", "support@shop.example", first_id, "<f4@evil.example>",
                                         "Hi\r\n")),
            403, "not the ticket's customer");
    refused(inbound(d.port(), reply_text("casey@example.com", reply_to, "", "<f5@evil.example>", "Hi\r\n"),
                    "wrong-secret-0123456789"),
            401, "");
    refused(http(d.port(), "POST", "/api/v1/mail/inbound", "From: casey@example.com\r\n\r\nHi\r\n",
                 {{"Content-Type", "message/rfc822"}}),
            401, "");
    refused(inbound(d.port(), reply_text("casey@example.com", "nobody@shop.example", "", "<f6@evil.example>", "Hi\r\n")),
            404, "names no ticket");
    refused(inbound(d.port(), "not a mail"), 400, "not an e-mail message");
    refused(inbound(d.port(), reply_text("casey@example.com", reply_to, "", "<f7@evil.example>",
                                         "\r\nOn Sat, Ann wrote:\r\n> Did it arrive?\r\n")),
            400, "no text of its own");
    auto ooo = "Auto-Submitted: auto-replied\r\n" +
               reply_text("casey@example.com", reply_to, "", "<f8@evil.example>", "I am away.\r\n");
    auto ignored = inbound(d.port(), ooo);
    CHECK(ignored.status == 200);
    CHECK(ignored.json().at("status").as_string() == "ignored");
    auto spf = "Authentication-Results: mx.shop.example; spf=fail smtp.mailfrom=example.com\r\n" +
               reply_text("casey@example.com", reply_to, "", "<f9@evil.example>", "Hi\r\n");
    refused(inbound(d.port(), spf), 403, "forged");
    CHECK(comments(d.port(), ann, ticket).size() == before);
  }
}

TEST_CASE("a customer asks for the chat's transcript and gets it by e-mail, once in a while") {
  if (!have_aiosmtpd()) {
    WARN("python3-aiosmtpd is missing (scripts/setup installs it): the e-mail test is skipped");
    return;
  }
  Sink sink;
  sink.start();
  Deployment d(sink.env());
  auto [casey_id, token] = visitor_with_email(d.port(), "casey@example.com");
  Person casey;
  casey.port = d.port();
  casey.id = casey_id;
  casey.token = token;
  casey.ws = std::make_unique<WsClient>(d.port());
  REQUIRE(is_type(casey.ws->hello(token), "welcome"));
  auto conv = start_chat(casey, "My parcel never came");
  auto r = http(d.port(), "POST", "/api/v1/mail/transcript", R"({"conversation_id":")" + conv + R"("})", auth(token));
  INFO(r.body);
  REQUIRE(r.status == 202);
  auto m = sink.message(1);
  CHECK(m.header("subject") == "Your chat transcript");
  CHECK(m.header("x-sink-rcpt-to") == "casey@example.com");
  CHECK(m.body.find("My parcel never came") != std::string::npos);
  CHECK(http(d.port(), "POST", "/api/v1/mail/transcript", R"({"conversation_id":")" + conv + R"("})", auth(token))
            .status == 429);
  auto [dana_id, dana] = visitor_with_email(d.port(), "dana@example.com");
  CHECK(http(d.port(), "POST", "/api/v1/mail/transcript", R"({"conversation_id":")" + conv + R"("})", auth(dana))
            .status == 404);
}

TEST_CASE("when a chat is resolved the customer gets the CSAT link by e-mail, and the link records the answer") {
  if (!have_aiosmtpd()) {
    WARN("python3-aiosmtpd is missing (scripts/setup installs it): the e-mail test is skipped");
    return;
  }
  Sink sink;
  sink.start();
  Deployment d(sink.env());
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto [casey_id, token] = visitor_with_email(d.port(), "casey@example.com");
  Person casey;
  casey.port = d.port();
  casey.id = casey_id;
  casey.token = token;
  casey.ws = std::make_unique<WsClient>(d.port());
  REQUIRE(is_type(casey.ws->hello(token), "welcome"));
  auto conv = start_chat(casey, "Is the blue one in stock?");
  accept(ann, conv);
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto m = sink.message(1);
  CHECK(m.header("subject") == "How did we do?");
  auto at = m.body.find("https://support.shop.example/csat.html#");
  REQUIRE(at != std::string::npos);
  auto link = m.body.substr(at + 39, m.body.find('\n', at) - at - 39);
  auto r = http(d.port(), "POST", "/api/v1/csat/" + link, R"({"rating":5})", {{"Content-Type", "application/json"}});
  INFO(r.body);
  CHECK(r.status == 200);
  // The page the link opens is served.
  CHECK(http(d.port(), "GET", "/csat.html").status == 200);
}

TEST_CASE("a mail the mail server never takes ends failed with each attempt logged, and a supervisor sends it again") {
  if (!have_aiosmtpd()) {
    WARN("python3-aiosmtpd is missing (scripts/setup installs it): the e-mail test is skipped");
    return;
  }
  Sink sink;  // not started yet: every connection to it is refused
  auto env = sink.env();
  env.emplace_back("EXCEED_MAIL_GIVE_UP_AFTER_S", "1");
  Deployment d(env);
  d.user("ann");
  d.user("sue", "supervisor");
  auto ann = login(d.port(), "ann", "password123");
  auto sue = login(d.port(), "sue", "password123");
  auto [casey_id, casey] = visitor_with_email(d.port(), "casey@example.com");
  auto ticket = ticket_with_reply(d.port(), casey, ann);

  auto failed = read_until([&] { return mail_list(d.port(), sue, "?status=failed"); }, has_items);
  INFO(failed.body);
  REQUIRE(has_items(failed));
  REQUIRE(failed.json().at("items").as_array().size() == 1);
  auto page = failed.json();  // json() parses anew: keep what is read from
  auto const& m = page.at("items").at(0).as_object();
  std::string id(m.at("id").as_string());
  CHECK(m.at("kind").as_string() == "ticket_reply");
  CHECK(m.at("to").as_string() == "casey@example.com");
  CHECK(m.at("subject").as_string() == "Re: Refund [" + ticket + "]");
  CHECK(m.at("ticket_id").as_string() == ticket);
  CHECK(m.at("status").as_string() == "failed");
  auto attempts = m.at("attempts").as_int64();
  CHECK(attempts >= 2);  // retried until mail.give_up_after_s
  CHECK(std::string(m.at("last_error").as_string()).find("connect") != std::string::npos);
  CHECK(m.at("failed_at").is_int64());
  CHECK(m.at("next_try_at").is_null());
  CHECK_FALSE(m.contains("body"));  // the customer's words stay out of the list
  CHECK(mail_list(d.port(), sue, "?status=queued").json().at("items").as_array().empty());
  CHECK(mail_list(d.port(), sue, "?status=sent").json().at("items").as_array().empty());

  // Every attempt, newest first: retried until the last, which gave up.
  auto detail = http(d.port(), "GET", "/api/v1/mail/" + id, "", auth(sue));
  INFO(detail.body);
  REQUIRE(detail.status == 200);
  auto record = detail.json();
  CHECK_FALSE(record.as_object().contains("body"));
  auto const& log = record.at("attempt_log").as_array();
  REQUIRE(log.size() == static_cast<std::size_t>(attempts));
  for (std::size_t i = 0; i < log.size(); ++i) {
    auto const& a = log[i].as_object();
    CHECK(a.at("attempt").as_int64() == attempts - static_cast<std::int64_t>(i));
    CHECK(a.at("result").as_string() == (i == 0 ? "failed" : "retry"));
    CHECK(a.at("next_try_at").is_null() == (i == 0));
    CHECK(a.at("code").is_null());  // no SMTP server answered
    CHECK(std::string(a.at("error").as_string()).find("connect") != std::string::npos);
  }

  // Only supervisors see the queue.
  CHECK(mail_list(d.port(), ann).status == 403);
  CHECK(http(d.port(), "GET", "/api/v1/mail/" + id, "", auth(ann)).status == 403);
  CHECK(http(d.port(), "POST", "/api/v1/mail/" + id + "/retry", "", auth(ann)).status == 403);
  CHECK(mail_list(d.port(), casey).status == 403);
  CHECK(http(d.port(), "GET", "/api/v1/mail").status == 401);
  CHECK(http(d.port(), "GET", "/api/v1/mail/m_none", "", auth(sue)).status == 404);
  CHECK(mail_list(d.port(), sue, "?status=lost").status == 400);
  CHECK(mail_list(d.port(), sue, "?limit=0").status == 400);

  // The mail server is back: a supervisor queues the mail again and it goes.
  sink.start();
  auto retried = http(d.port(), "POST", "/api/v1/mail/" + id + "/retry", "", auth(sue));
  INFO(retried.body);
  REQUIRE(retried.status == 200);
  CHECK(retried.json().at("retried_at").is_int64());
  auto got = sink.message(1);
  CHECK(got.header("subject") == "Re: Refund [" + ticket + "]");
  CHECK(got.header("x-sink-rcpt-to") == "casey@example.com");
  auto sent = read_until([&] { return http(d.port(), "GET", "/api/v1/mail/" + id, "", auth(sue)); },
                         [](HttpResult const& r) {
                           return r.status == 200 && r.json().at("status").as_string() == "sent";
                         });
  INFO(sent.body);
  REQUIRE(sent.json().at("status").as_string() == "sent");
  CHECK(sent.json().at("sent_at").is_int64());
  CHECK(sent.json().at("attempts").as_int64() == attempts + 1);
  auto done = sent.json();
  auto const& last = done.at("attempt_log").at(0).as_object();
  CHECK(last.at("result").as_string() == "sent");
  CHECK(last.at("attempt").as_int64() == attempts + 1);
  CHECK(http(d.port(), "POST", "/api/v1/mail/" + id + "/retry", "", auth(sue)).status == 409);  // not failed
  CHECK(mail_list(d.port(), sue, "?status=sent").json().at("items").at(0).at("id").as_string() == id);

  // A mailbox the server refuses for good (550) fails at the first attempt, its code logged.
  auto [rex_id, rex] = visitor_with_email(d.port(), "refused@example.com");
  ticket_with_reply(d.port(), rex, ann);
  auto refused = read_until([&] { return mail_list(d.port(), sue, "?status=failed"); }, has_items);
  INFO(refused.body);
  REQUIRE(has_items(refused));
  auto refused_page = refused.json();
  auto const& r = refused_page.at("items").at(0).as_object();
  CHECK(r.at("to").as_string() == "refused@example.com");
  CHECK(r.at("attempts").as_int64() == 1);
  CHECK(std::string(r.at("last_error").as_string()).find("550") != std::string::npos);
  auto refused_detail = http(d.port(), "GET", "/api/v1/mail/" + std::string(r.at("id").as_string()), "", auth(sue));
  auto refused_record = refused_detail.json();
  REQUIRE(refused_record.at("attempt_log").as_array().size() == 1);
  CHECK(refused_record.at("attempt_log").at(0).at("code").as_int64() == 550);
  CHECK(refused_record.at("attempt_log").at(0).at("result").as_string() == "failed");
}

TEST_CASE("a waiting mail shows when it is tried next, and the metrics count the mails waiting") {
  if (!have_aiosmtpd()) {
    WARN("python3-aiosmtpd is missing (scripts/setup installs it): the e-mail test is skipped");
    return;
  }
  Sink sink;
  auto env = sink.env();
  env.emplace_back("EXCEED_METRICS_PUBLIC", "true");
  Deployment d(env);
  d.user("ann");
  d.user("sue", "supervisor");
  auto ann = login(d.port(), "ann", "password123");
  auto sue = login(d.port(), "sue", "password123");
  auto [casey_id, casey] = visitor_with_email(d.port(), "casey@example.com");
  ticket_with_reply(d.port(), casey, ann);

  auto waiting = read_until([&] { return mail_list(d.port(), sue, "?status=queued"); },
                            [](HttpResult const& r) {
                              return has_items(r) && !r.json().at("items").at(0).at("last_error").is_null();
                            });
  INFO(waiting.body);
  REQUIRE(has_items(waiting));
  auto page = waiting.json();
  auto const& m = page.at("items").at(0).as_object();
  CHECK(m.at("status").as_string() == "queued");
  CHECK(m.at("attempts").as_int64() >= 1);
  REQUIRE(m.at("next_try_at").is_int64());
  CHECK(m.at("next_try_at").as_int64() > m.at("created_at").as_int64());
  CHECK(m.at("failed_at").is_null());
  auto metrics = [&] { return http(d.port(), "GET", "/metrics"); };
  auto counted = [](std::string n) {
    return [n](HttpResult const& r) { return r.body.find("\nexceed_mail_waiting " + n + "\n") != std::string::npos; };
  };
  CHECK(counted("1")(read_until(metrics, counted("1"))));

  sink.start();
  sink.message(1);
  CHECK(counted("0")(read_until(metrics, counted("0"))));
  CHECK(has_items(read_until([&] { return mail_list(d.port(), sue, "?status=sent"); }, has_items)));
}

TEST_CASE("a finished mail and its attempt log are deleted after mail.retention_s") {
  if (!have_aiosmtpd()) {
    WARN("python3-aiosmtpd is missing (scripts/setup installs it): the e-mail test is skipped");
    return;
  }
  Sink sink;
  sink.start();
  auto env = sink.env();
  env.emplace_back("EXCEED_MAIL_RETENTION_S", "4");
  Deployment d(env);
  d.user("ann");
  d.user("sue", "supervisor");
  auto ann = login(d.port(), "ann", "password123");
  auto sue = login(d.port(), "sue", "password123");
  auto [casey_id, casey] = visitor_with_email(d.port(), "casey@example.com");
  ticket_with_reply(d.port(), casey, ann);

  auto sent = read_until([&] { return mail_list(d.port(), sue, "?status=sent"); }, has_items);
  INFO(sent.body);
  REQUIRE(has_items(sent));
  std::string id(sent.json().at("items").at(0).at("id").as_string());
  sink.message(1);
  auto gone = read_until([&] { return mail_list(d.port(), sue); },
                         [](HttpResult const& r) { return r.status == 200 && !has_items(r); });
  INFO(gone.body);
  CHECK(gone.status == 200);
  CHECK_FALSE(has_items(gone));
  CHECK(http(d.port(), "GET", "/api/v1/mail/" + id, "", auth(sue)).status == 404);
  CHECK(redis_cli(d.redis.port(), "EXISTS exceed:mail:" + id + " exceed:mail:" + id + ":log") == "0");
  CHECK(redis_cli(d.redis.port(), "ZCARD exceed:mail:index") == "0");  // dropped as the list met it
}
