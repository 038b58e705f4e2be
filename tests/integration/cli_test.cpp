// The exceed command line: users, and a bad configuration refused at start.
#include "harness.hpp"

#include <fstream>

using namespace exceed::test;

namespace {

struct Run {
  int code;
  std::string output;
};

Run run(std::string const& cmd) {
  Run r{-1, {}};
  if (FILE* p = popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return r;
}

}  // namespace

TEST_CASE("users are added from the command line, listed, and cannot be added twice") {
  RedisServer redis;
  auto bin = exceed_binary();
  auto add = "printf 'longpassword\\n' | EXCEED_AUTH_PASSWORD_ITERATIONS=1000 " + bin +
             " user add ann --role agent --name 'Ann Archer' --teams support,sales --capacity 4 --redis " + redis.url();
  auto first = run(add);
  REQUIRE(first.code == 0);
  REQUIRE(first.output.find("added agent ann") != std::string::npos);
  auto again = run(add);
  REQUIRE(again.code == 1);
  REQUIRE(again.output.find("taken") != std::string::npos);
  auto list = run(bin + " user list --redis " + redis.url());
  REQUIRE(list.code == 0);
  REQUIRE(list.output.find("ann\tagent\ta_") != std::string::npos);
  REQUIRE(list.output.find("Ann Archer\tsupport,sales\t4") != std::string::npos);
  REQUIRE(list.output.find("longpassword") == std::string::npos);

  SECTION("bad arguments are refused with exit code 2") {
    REQUIRE(run("printf 'longpassword\\n' | " + bin + " user add bob --role boss --redis " + redis.url()).code == 2);
    REQUIRE(run("printf 'short\\n' | " + bin + " user add bob --role agent --redis " + redis.url()).code == 2);
    REQUIRE(run("printf 'longpassword\\n' | " + bin + " user add 'b b' --role agent --redis " + redis.url()).code == 2);
  }
  SECTION("a Redis that is not there is reported") {
    auto r = run(bin + " user list --redis redis://127.0.0.1:1");
    REQUIRE(r.code == 1);
    REQUIRE(r.output.find("cannot reach Redis") != std::string::npos);
  }
}

TEST_CASE("a bad configuration is refused at start with the file, the key and the reason, exit code 2") {
  auto dir = make_temp_dir("exceed-cfg-");
  auto path = dir + "/bad.toml";
  std::ofstream(path) << "[routing]\nstrategy = \"random\"\n";
  auto r = run("EXCEED_AUTH_TOKEN_SECRET=0123456789abcdef " + exceed_binary() + " serve --config " + path);
  REQUIRE(r.code == 2);
  REQUIRE(r.output.find(path) != std::string::npos);
  REQUIRE(r.output.find("routing.strategy") != std::string::npos);
  REQUIRE(r.output.find("least_busy or round_robin") != std::string::npos);

  auto no_secret = run("env -u EXCEED_AUTH_TOKEN_SECRET " + exceed_binary() + " serve --listen 127.0.0.1:0");
  REQUIRE(no_secret.code == 2);
  REQUIRE(no_secret.output.find("auth.token_secret") != std::string::npos);

  auto bad_env = run("EXCEED_ROUTING_OFFER_TIMEOUT_S=soon " + exceed_binary() + " serve");
  REQUIRE(bad_env.code == 2);
  REQUIRE(bad_env.output.find("EXCEED_ROUTING_OFFER_TIMEOUT_S") != std::string::npos);
}

TEST_CASE("assess-eval prints the agreement and the matrix, fails below a bar, and names a malformed line") {
  auto bin = exceed_binary();
  auto dir = make_temp_dir("exceed-eval-");
  auto rules = std::string(EXCEED_PROTO_DIR) + "/../config/assessment.toml";
  std::ofstream(dir + "/corpus.txt") << "== glad exceeded\n"
                                        "0:00 customer: my card was charged twice\n"
                                        "0:15 agent: Refunded, and I've also added a month free for the trouble.\n"
                                        "0:30 customer: wow, you're a star, thank you so much!\n"
                                        "0:35 resolve\n\n"
                                        "== verdict met\n"
                                        "0:00 customer: hello\n"
                                        "0:10 agent: hi\n"
                                        "0:20 resolve\n"
                                        "expectation met\n";
  auto ok = run(bin + " assess-eval " + dir + "/corpus.txt --rules " + rules + " --min-explicit 100 --min-inferred 100");
  INFO(ok.output);
  REQUIRE(ok.code == 0);
  REQUIRE(ok.output.find("explicit   100.0%  (1 of 1)") != std::string::npos);
  REQUIRE(ok.output.find("inferred   100.0%  (1 of 1)") != std::string::npos);
  REQUIRE(ok.output.find("label \\ judged   below     met  exceeded") != std::string::npos);

  std::ofstream(dir + "/wrong.txt") << "== glad below\n0:00 customer: you're a star, thank you so much!\n0:10 agent: hi\n0:20 resolve\n";
  auto below_bar = run(bin + " assess-eval " + dir + "/wrong.txt --rules " + rules + " --min-inferred 90 --verbose");
  REQUIRE(below_bar.code == 1);
  REQUIRE(below_bar.output.find("labelled below, judged") != std::string::npos);
  REQUIRE(below_bar.output.find("inferred agreement 0% is below the minimum 90%") != std::string::npos);

  std::ofstream(dir + "/bad.txt") << "== x met\n0:00 customer: hi\nrating 7\n";
  auto bad = run(bin + " assess-eval " + dir + "/bad.txt --rules " + rules);
  REQUIRE(bad.code == 2);
  REQUIRE(bad.output.find("bad.txt:3: rating must be 1..5") != std::string::npos);
  REQUIRE(run(bin + " assess-eval " + dir + "/missing.txt --rules " + rules).code == 2);
  REQUIRE(run(bin + " assess-eval " + dir + "/corpus.txt --rules " + dir + "/none.toml").code == 2);
}
