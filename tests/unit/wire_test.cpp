// The contract's message object from a store::Message: the one place the
// `message` events, history.get and the HTTP history get it from.
#include "app/wire.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace exceed;

namespace {

store::Message hi() {
  store::Message m;
  m.conversation_id = "c1";
  m.seq = 7;
  m.ts = 1700;
  m.role = "customer";
  m.sender_id = "v_1";
  m.sender_name = "Casey";
  m.text = "Hi";
  m.client_msg_id = "m1";
  return m;
}

}  // namespace

TEST_CASE("a stored message becomes the message object the wire has always carried") {
  REQUIRE(boost::json::serialize(app::message_json(hi())) ==
          R"({"conversation_id":"c1","seq":7,"ts":1700,"from":{"role":"customer","id":"v_1","name":"Casey"},)"
          R"("text":"Hi","client_msg_id":"m1"})");

  SECTION("a staff sender shows as an agent, and no client id leaves the field out") {
    auto m = hi();
    m.role = "supervisor";
    m.client_msg_id.clear();
    auto j = app::message_json(m);
    REQUIRE(j.at("from").at("role").as_string() == "agent");
    REQUIRE_FALSE(j.contains("client_msg_id"));
  }
  SECTION("the file a message carries comes as its attachment object, and a damaged one is left out") {
    auto m = hi();
    m.attachment = R"({"id":"f_1","name":"shot.png","type":"image/png","bytes":1234})";
    REQUIRE(app::message_json(m).at("attachment").at("name").as_string() == "shot.png");
    m.attachment = "{not json";
    REQUIRE_FALSE(app::message_json(m).contains("attachment"));
  }
}
