// Who can answer, through the real server: the widget's availability of a
// team (open, anyone online, what happens to a chat when nobody is) and the
// staff directory of teams and agents by name for the pickers.
#include "harness.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

json::object get_json(std::uint16_t port, std::string const& target, std::string const& token = "",
                      unsigned expect_status = 200) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  auto r = http(port, "GET", target, "", headers);
  INFO(target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expect_status);
  return r.json().as_object();
}

json::object find_by(json::array const& list, char const* key, std::string const& value) {
  for (auto const& v : list)
    if (v.as_object().at(key).as_string() == value) return v.as_object();
  FAIL("no entry with " << key << " = " << value);
  return {};
}

}  // namespace

TEST_CASE("the widget learns, without signing in, whether anyone of the team is online") {
  Deployment d;
  d.user("ann", "agent", "support");

  SECTION("nobody online: the chat would become a ticket, and the widget can say so first") {
    auto a = get_json(d.port(), "/api/v1/availability?team=support");
    REQUIRE(a.at("team").as_string() == "support");
    REQUIRE(a.at("open").as_bool());
    REQUIRE_FALSE(a.at("online").as_bool());
    REQUIRE(a.at("opens_at").is_null());
    REQUIRE(a.at("when_offline").as_string() == "ticket");
  }
  SECTION("an agent online with a live session counts; away or gone does not") {
    auto ann = agent(d.port(), "ann");
    REQUIRE(get_json(d.port(), "/api/v1/availability?team=support").at("online").as_bool());
    // Without a team the default team is meant.
    REQUIRE(get_json(d.port(), "/api/v1/availability").at("team").as_string() == "support");
    REQUIRE(ok(ann->request(frame({{"type", "agent.status"}, {"status", "away"}}))));
    REQUIRE_FALSE(get_json(d.port(), "/api/v1/availability?team=support").at("online").as_bool());
  }
  SECTION("a team that does not exist is not found") {
    auto r = http(d.port(), "GET", "/api/v1/availability?team=nosuchteam");
    REQUIRE(r.status == 404);
    REQUIRE(r.json().at("error").at("code").as_string() == "not_found");
  }
}

TEST_CASE("outside the team's hours the widget is told it is closed and when it opens") {
  auto dir = make_temp_dir("exceed-availability-");
  std::ofstream(dir + "/exceed.toml") << "[teams.support]\ntime_zone = \"UTC\"\nhours = [\"mon-sun 00:00-24:00\"]\n"
                                      << "days_off = [\"" << today_utc(-1) << "\", \"" << today_utc() << "\", \""
                                      << today_utc(1) << "\"]\n";
  Deployment d(Env{{"EXCEED_CONFIG", dir + "/exceed.toml"}});
  d.user("ann", "agent", "support");
  auto ann = agent(d.port(), "ann");
  auto a = get_json(d.port(), "/api/v1/availability?team=support");
  REQUIRE_FALSE(a.at("open").as_bool());
  REQUIRE(a.at("online").as_bool());
  REQUIRE(a.at("opens_at").as_int64() > static_cast<std::int64_t>(std::time(nullptr)) * 1000);
}

TEST_CASE("with ticket_when_offline off the widget is told a chat waits in the queue") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});
  d.user("ann", "agent", "support");
  REQUIRE(get_json(d.port(), "/api/v1/availability?team=support").at("when_offline").as_string() == "queue");
}

TEST_CASE("staff pick teams and agents by name from the directory") {
  Deployment d;
  d.user("ann", "agent", "support,sales", 2);
  d.user("bob", "agent", "sales");
  d.user("boss", "supervisor", "");
  auto ann = agent(d.port(), "ann");
  auto bob = agent(d.port(), "bob", false);

  SECTION("teams with who is online and free, agents with name, teams, status and slots") {
    auto dirx = get_json(d.port(), "/api/v1/directory", bob.token);
    auto const& teams = dirx.at("teams").as_array();
    REQUIRE(teams.size() == 2);
    REQUIRE(teams[0].at("name").as_string() == "sales");  // sorted by name
    auto sales = find_by(teams, "name", "sales");
    REQUIRE(sales.at("agents_online").as_int64() == 1);
    REQUIRE(sales.at("agents_available").as_int64() == 1);
    REQUIRE(sales.at("open").as_bool());
    auto const& agents = dirx.at("agents").as_array();
    REQUIRE(agents.size() == 2);  // the supervisor is no agent
    auto a = find_by(agents, "id", ann.id);
    REQUIRE(a.at("name").as_string() == "ann");
    REQUIRE(a.at("status").as_string() == "online");
    REQUIRE(a.at("capacity").as_int64() == 2);
    REQUIRE(a.at("available").as_bool());
    REQUIRE(a.at("teams").as_array().size() == 2);
    auto b = find_by(agents, "id", bob.id);
    REQUIRE(b.at("status").as_string() == "offline");
    REQUIRE_FALSE(b.at("available").as_bool());
  }
  SECTION("a full agent is online but has no free slot") {
    auto c1 = customer(d.port(), "One");
    auto c2 = customer(d.port(), "Two");
    accept(ann, start_chat(c1, "first", "support"));
    accept(ann, start_chat(c2, "second", "support"));
    auto boss = login(d.port(), "boss", "password123");
    auto a = find_by(get_json(d.port(), "/api/v1/directory", boss).at("agents").as_array(), "id", ann.id);
    REQUIRE(a.at("status").as_string() == "online");
    REQUIRE(a.at("active").as_int64() == 2);
    REQUIRE_FALSE(a.at("available").as_bool());
  }
  SECTION("a disabled agent is left out of the list, and their token is refused") {
    REQUIRE(std::system((exceed_binary() + " user disable bob --redis " + d.redis.url() + " >/dev/null 2>&1").c_str()) ==
            0);
    auto boss = login(d.port(), "boss", "password123");
    auto const agents = get_json(d.port(), "/api/v1/directory", boss).at("agents").as_array();
    REQUIRE(agents.size() == 1);
    REQUIRE(agents[0].at("id").as_string() == ann.id);
    REQUIRE(get_json(d.port(), "/api/v1/directory", bob.token, 401).at("error").at("code") == "unauthorized");
  }
  SECTION("customers and callers without a valid token are refused") {
    auto casey = customer(d.port());
    REQUIRE(get_json(d.port(), "/api/v1/directory", casey.token, 403).at("error").at("code") == "forbidden");
    REQUIRE(http(d.port(), "GET", "/api/v1/directory").status == 401);
    REQUIRE(http(d.port(), "GET", "/api/v1/directory", "", {{"Authorization", "Bearer nonsense"}}).status == 401);
  }
}
