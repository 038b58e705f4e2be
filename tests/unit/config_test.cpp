#include "app/config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

using namespace exceed::app;

namespace {

std::string write_temp(std::string const& text) {
  char name[] = "/tmp/exceed-config-XXXXXX";
  int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(name) << text;
  return name;
}

}  // namespace

TEST_CASE("the documented default config file loads and passes validation with a secret") {
  auto c = load_config(std::string(EXCEED_SOURCE_DIR) + "/config/exceed.toml", {{"EXCEED_AUTH_TOKEN_SECRET", "0123456789abcdef0123"}});
  REQUIRE_NOTHROW(validate(c, "config/exceed.toml"));
  REQUIRE(c.server.port == 8080);
  REQUIRE(c.routing.default_team == "support");
}

TEST_CASE("environment variables override the file, and name section and key") {
  auto path = write_temp("[redis]\nurl = \"redis://127.0.0.1:7000\"\n[routing]\noffer_timeout_s = 20\n");
  auto c = load_config(path, {{"EXCEED_REDIS_URL", "redis://10.0.0.1:6379"}, {"EXCEED_ROUTING_AGENT_GRACE_S", "5"},
                              {"EXCEED_UNRELATED_THING", "ignored"}});
  REQUIRE(c.redis.url == "redis://10.0.0.1:6379");
  REQUIRE(c.routing.offer_timeout_s == 20);
  REQUIRE(c.routing.agent_grace_s == 5);
  std::remove(path.c_str());
}

TEST_CASE("a bad setting is refused with the file, the key and the reason") {
  auto check = [](std::string const& text, std::string const& key, std::string const& reason_part) {
    auto path = write_temp(text);
    try {
      load_config(path, {});
      FAIL("accepted: " << text);
    } catch (ConfigError const& e) {
      REQUIRE(e.source == path);
      REQUIRE(e.key == key);
      REQUIRE(e.reason.find(reason_part) != std::string::npos);
    }
    std::remove(path.c_str());
  };
  check("[routing]\nstrategy = \"random\"\n", "routing.strategy", "least_busy or round_robin");
  check("[routing]\noffer_timeout_s = \"soon\"\n", "routing.offer_timeout_s", "integer");
  check("[limits]\nmax_frame_bytes = 10\n", "limits.max_frame_bytes", "between");
  check("[server]\nlisten = \"nope\"\n", "server.listen", "HOST:PORT");
  check("[server]\nlisten_port = 1\n", "server.listen_port", "unknown setting");
  check("[server\nlisten = 1\n", "line 1, column 8", "");
}

TEST_CASE("an environment value is checked like a file value") {
  REQUIRE_THROWS_AS(load_config("", {{"EXCEED_ROUTING_DEFAULT_CAPACITY", "0"}}), ConfigError);
  REQUIRE_THROWS_AS(load_config("", {{"EXCEED_LOG_JSON", "maybe"}}), ConfigError);
}

TEST_CASE("validation needs a token secret and TLS files in pairs") {
  Config c;
  REQUIRE_THROWS_AS(validate(c, "x"), ConfigError);
  c.auth.token_secret = "0123456789abcdef";
  REQUIRE_NOTHROW(validate(c, "x"));
  c.server.tls_cert = "/etc/cert.pem";
  REQUIRE_THROWS_AS(validate(c, "x"), ConfigError);
}

TEST_CASE("listen addresses") {
  std::string host;
  std::uint16_t port = 0;
  REQUIRE(parse_listen("127.0.0.1:8080", host, port));
  REQUIRE((host == "127.0.0.1" && port == 8080));
  REQUIRE(parse_listen("[::1]:9000", host, port));
  REQUIRE((host == "::1" && port == 9000));
  REQUIRE(parse_listen(":7000", host, port));
  REQUIRE(host == "0.0.0.0");
  REQUIRE_FALSE(parse_listen("host:99999", host, port));
  REQUIRE_FALSE(parse_listen("host:", host, port));
}

TEST_CASE("the documented assessment rules load, and a bad one is refused with file and key") {
  Config c;
  c.assessment.rules_file = std::string(EXCEED_SOURCE_DIR) + "/config/assessment.toml";
  load_assessment_rules(c);
  exceed::core::AssessmentRules defaults;
  REQUIRE(c.assessment.rules.exceeded_at == defaults.exceeded_at);
  REQUIRE(c.assessment.rules.w_rating_5 == defaults.w_rating_5);
  REQUIRE(c.assessment.rules.delight_sum == defaults.delight_sum);
  REQUIRE(c.assessment.rules.w_went_beyond == defaults.w_went_beyond);
  REQUIRE(c.assessment.rules.far_first_response_ratio == defaults.far_first_response_ratio);
  // The sentiment lexicon scripts/setup installs, with the overlay and cues.
  REQUIRE(c.assessment.rules.language);
  REQUIRE(c.assessment.rules.language->lexicon.size() > 7000);
  REQUIRE(*c.assessment.rules.language->lexicon.word("legend") > 2);
  REQUIRE_FALSE(c.assessment.rules.language->cues.give_up.cues.empty());
  auto bad = write_temp("[weights]\nrating_5 = \"lots\"\n");
  c.assessment.rules_file = bad;
  try {
    load_assessment_rules(c);
    FAIL("accepted a bad weight");
  } catch (ConfigError const& e) {
    REQUIRE(e.key == "weights.rating_5");
  }
  std::remove(bad.c_str());
  auto missing = write_temp("[language]\nlexicon = \"/nonexistent/vader_lexicon.txt\"\n");
  c.assessment.rules_file = missing;
  try {
    load_assessment_rules(c);
    FAIL("accepted a lexicon that is not there");
  } catch (ConfigError const& e) {
    REQUIRE(e.key == "language.lexicon");
    REQUIRE(e.reason.find("scripts/setup") != std::string::npos);
  }
  std::remove(missing.c_str());
}

TEST_CASE("SLA policies: the most specific one applies") {
  auto path = write_temp("[sla.default]\nfirst_response_s = 90\n[sla.support]\nfirst_response_s = 30\n"
                         "[sla.support.urgent]\nfirst_response_s = 10\nwarning_ratio = 0.5\n");
  auto c = load_config(path, {});
  REQUIRE(c.sla_for("sales", "normal").first_response == 90'000);
  REQUIRE(c.sla_for("support", "normal").first_response == 30'000);
  REQUIRE(c.sla_for("support", "urgent").first_response == 10'000);
  REQUIRE(c.sla_for("support", "urgent").name == "support.urgent");
  REQUIRE(c.sla_for("support", "urgent").warning_ratio == 0.5);
  std::remove(path.c_str());
}

TEST_CASE("the e-mail channel needs its server, its sender and a plain reply address") {
  auto c = load_config("", {{"EXCEED_MAIL_ENABLED", "true"}, {"EXCEED_MAIL_SMTP_URL", "smtp://127.0.0.1:2525"}});
  c.auth.token_secret = "0123456789abcdef";
  CHECK(c.mail.enabled);
  REQUIRE_THROWS_AS(validate(c, "x"), ConfigError);  // no from
  c.mail.from = "Support <support@shop.example>";
  c.mail.reply_address = "reply+x@shop.example";
  REQUIRE_THROWS_AS(validate(c, "x"), ConfigError);  // a '+' in the reply address
  c.mail.reply_address = "reply@shop.example";
  REQUIRE_NOTHROW(validate(c, "x"));
  c.mail.inbound_secret = "short";
  REQUIRE_THROWS_AS(validate(c, "x"), ConfigError);
  REQUIRE_THROWS_AS(load_config("", {{"EXCEED_MAIL_SMTP_URL", "http://mail.example"}}), ConfigError);
}

TEST_CASE("finished mails are kept 30 days unless mail.retention_s says otherwise") {
  CHECK(load_config("", {}).mail.retention_s == 30 * 86'400);
  CHECK(load_config("", {{"EXCEED_MAIL_RETENTION_S", "604800"}}).mail.retention_s == 604'800);
  auto path = write_temp("[mail]\nretention_s = 86400\n");
  CHECK(load_config(path, {}).mail.retention_s == 86'400);
  std::remove(path.c_str());
  REQUIRE_THROWS_AS(load_config("", {{"EXCEED_MAIL_RETENTION_S", "0"}}), ConfigError);
}

TEST_CASE("invitation rules load by name with their conditions, and a bad one is refused with its key") {
  auto path = write_temp(
      "[visitors]\nretention_s = 3600\ncheckout_paths = [\"/kasse*\"]\n"
      "[invitations]\nper_visit = 1\n"
      "[invitations.rules.checkout]\npage = \"/kasse*\"\ntime_on_page_s = 30\ncart_value = 50\n"
      "returning = \"yes\"\nteam = \"sales\"\nteam_online = false\ntext = \"Need a hand?\"\n");
  auto c = load_config(path, {{"EXCEED_VISITORS_QUIET_S", "600"}});
  REQUIRE(c.visitors.retention_s == 3600);
  REQUIRE(c.visitors.quiet_s == 600);
  REQUIRE(c.visitors.checkout_paths == std::vector<std::string>{"/kasse*"});
  REQUIRE(c.invitations.per_visit == 1);
  REQUIRE(c.invitations.rules.size() == 1);
  auto const& r = c.invitations.rules[0];
  REQUIRE(r.name == "checkout");
  REQUIRE(r.page == "/kasse*");
  REQUIRE(r.time_on_page == 30'000);
  REQUIRE(r.cart_value == 50);
  REQUIRE(r.returning == exceed::core::InvitationRule::Returning::yes);
  REQUIRE(r.team == "sales");
  REQUIRE_FALSE(r.team_online);
  REQUIRE(r.business_hours);
  std::remove(path.c_str());

  auto refused = [](std::string const& text, std::string const& key) {
    auto bad = write_temp(text);
    try {
      load_config(bad, {});
      FAIL("accepted: " << text);
    } catch (ConfigError const& e) {
      REQUIRE(e.key == key);
    }
    std::remove(bad.c_str());
  };
  refused("[invitations.rules.a]\npage = \"/x\"\n", "invitations.rules.a.text");
  refused("[invitations.rules.a]\ntext = \"x\"\nreturning = \"maybe\"\n", "invitations.rules.a.returning");
  refused("[invitations.rules.a]\ntext = \"x\"\nwhen = 1\n", "invitations.rules.a.when");
  refused("[invitations.rules.manual]\ntext = \"x\"\n", "invitations.rules.manual");
  refused("[visitors]\nretention_s = 10\n", "visitors.retention_s");
}

TEST_CASE("a Redis Cluster needs a prefix with a hash tag and no sentinels, said with the key") {
  auto c = load_config("", {{"EXCEED_REDIS_CLUSTER", "10.0.0.5:6379,10.0.0.6:6379"}});
  REQUIRE(c.redis.cluster == std::vector<std::string>{"10.0.0.5:6379", "10.0.0.6:6379"});
  c.auth.token_secret = "0123456789abcdef";
  auto refused_key = [&c] {
    try {
      validate_store(c, "x");
    } catch (ConfigError const& e) {
      return e.key;
    }
    return std::string("accepted");
  };
  CHECK(refused_key() == "redis.prefix");  // the default "exceed:" has no tag
  for (char const* bad : {"{}exceed:", "exceed:{", "ex}ceed{:"}) {
    c.redis.prefix = bad;
    INFO(bad);
    CHECK(refused_key() == "redis.prefix");
  }
  c.redis.prefix = "{exceed}:";
  CHECK(refused_key() == "accepted");
  REQUIRE_NOTHROW(validate(c, "x"));
  c.redis.sentinels = {"10.0.0.7:26379"};
  CHECK(refused_key() == "redis.cluster");
  REQUIRE_THROWS_AS(validate(c, "x"), ConfigError);
}
