// The contract's message object, from a store::Message and from one entry of
// a conversation's stream as the HTTP history reads it (decoded by the store).
#include "app/wire.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <stdexcept>

using namespace exceed;
using store::Reply;

namespace {

Reply text(std::string s) { return Reply{Reply::Kind::string, 0, std::move(s), {}}; }
Reply array(std::vector<Reply> elements) { return Reply{Reply::Kind::array, 0, {}, std::move(elements)}; }

// ["0-7", [ts, 1700, role, customer, uid, v_1, name, Casey, text, Hi, cmid, m1]]
Reply entry() {
  return array({text("0-7"), array({text("ts"), text("1700"), text("role"), text("customer"), text("uid"),
                                    text("v_1"), text("name"), text("Casey"), text("text"), text("Hi"),
                                    text("cmid"), text("m1")})});
}

}  // namespace

TEST_CASE("a stream entry becomes the message object the history has always shown") {
  auto m = app::message_json("c1", entry());
  REQUIRE(boost::json::serialize(m) ==
          R"({"conversation_id":"c1","seq":7,"ts":1700,"from":{"role":"customer","id":"v_1","name":"Casey"},)"
          R"("text":"Hi","client_msg_id":"m1"})");

  store::Message same;
  same.conversation_id = "c1";
  same.seq = 7;
  same.ts = 1700;
  same.role = "customer";
  same.sender_id = "v_1";
  same.sender_name = "Casey";
  same.text = "Hi";
  same.client_msg_id = "m1";
  REQUIRE(app::message_json(same) == m);

  SECTION("a staff sender shows as an agent, and no client id leaves the field out") {
    same.role = "supervisor";
    same.client_msg_id.clear();
    auto j = app::message_json(same);
    REQUIRE(j.at("from").at("role").as_string() == "agent");
    REQUIRE_FALSE(j.contains("client_msg_id"));
  }
}

TEST_CASE("a stream entry of another shape is refused, not shown as an empty message") {
  REQUIRE_THROWS_AS(app::message_json("c1", text("0-7")), std::runtime_error);
  REQUIRE_THROWS_AS(app::message_json("c1", array({text("0-7")})), std::runtime_error);
  auto no_time = entry();
  no_time.elements[1].elements[1] = text("soon");
  REQUIRE_THROWS_AS(app::message_json("c1", no_time), std::runtime_error);
  auto no_seq = entry();
  no_seq.elements[0] = text("seven");
  REQUIRE_THROWS_AS(app::message_json("c1", no_seq), std::runtime_error);
}
