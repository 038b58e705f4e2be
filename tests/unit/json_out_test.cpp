// protocol::JsonOut writes the hot path's frames without a DOM; these check
// that what it writes is the JSON the DOM path writes (byte for byte, so a
// client sees no difference) for every kind of text a message may carry.
#include "protocol/codec.hpp"
#include "protocol/json_out.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace json = boost::json;
using exceed::protocol::JsonOut;

namespace {

std::string dom_string(std::string_view s) { return json::serialize(json::value(json::string(s))); }

std::string own_string(std::string_view s) {
  std::string out;
  exceed::protocol::append_json_string(out, s);
  return out;
}

}  // namespace

TEST_CASE("append_json_string escapes as boost::json does") {
  std::string every_control;
  for (int c = 0; c < 0x20; ++c) every_control.push_back(static_cast<char>(c));
  for (std::string_view s : {std::string_view(""), std::string_view("plain"), std::string_view("quote \" and \\ back"),
                             std::string_view("tab\tnew\nline\rret\bback\fform"), std::string_view(every_control),
                             std::string_view("\x7f del, </script>, \xc3\xa9t\xc3\xa9, \xf0\x9f\x98\x80 emoji"),
                             std::string_view("\"\"\\\\\"")}) {
    INFO(s);
    CHECK(own_string(s) == dom_string(s));
    // And it reads back as the same text.
    CHECK(json::parse(own_string(s)).as_string() == s);
  }
}

TEST_CASE("a message's ack and event: the same bytes as through the DOM") {
  std::string const text = "Where is my order \"#123\"?\n\xc3\xa9\x01";
  json::object from;
  from["id"] = "v_1";
  from["name"] = "Ann \"the\" customer";
  from["role"] = "customer";
  json::object dom;
  dom["conversation_id"] = "c_9";
  dom["seq"] = 42;
  dom["ts"] = 1764979200123LL;
  dom["from"] = from;
  dom["text"] = text;
  dom["client_msg_id"] = "m-1";
  dom["attachment"] = json::parse(R"({"id":"f_1","name":"a.pdf","size":12})");

  JsonOut own;
  own.text("conversation_id", "c_9").integer("seq", 42).integer("ts", 1764979200123LL);
  own.open("from").text("id", "v_1").text("name", "Ann \"the\" customer").text("role", "customer").close();
  own.text("text", text).text("client_msg_id", "m-1").raw("attachment", R"({"id":"f_1","name":"a.pdf","size":12})");
  CHECK(exceed::protocol::encode_event("message", own) == exceed::protocol::encode_event("message", dom));

  for (json::value id : {json::value("r-1"), json::value(7), json::value("q\"uote")}) {
    json::object ack_dom;
    ack_dom["conversation_id"] = "c_9";
    ack_dom["seq"] = -3;
    ack_dom["ts"] = 0;
    ack_dom["duplicate"] = true;
    JsonOut ack_own;
    ack_own.text("conversation_id", "c_9").integer("seq", -3).integer("ts", 0).boolean("duplicate", true);
    CHECK(exceed::protocol::encode_ack(id, ack_own) == exceed::protocol::encode_ack(id, ack_dom));
  }
  // Nothing but the type and the id.
  CHECK(exceed::protocol::encode_ack(json::value("x"), JsonOut{}) == R"({"type":"ack","id":"x"})");
  CHECK(exceed::protocol::encode_event("ping", JsonOut{}) == R"({"type":"ping"})");
}

TEST_CASE("JsonOut: nested objects and the extremes of an integer") {
  JsonOut o;
  o.integer("min", INT64_MIN).integer("max", INT64_MAX).open("a").open("b").boolean("c", false).close().close()
      .text("d", "");
  auto v = json::parse("{" + std::string(o.members()) + "}");
  CHECK(v.at("min").as_int64() == INT64_MIN);
  CHECK(v.at("max").as_int64() == INT64_MAX);
  CHECK(v.at("a").at("b").at("c").as_bool() == false);
  CHECK(v.at("d").as_string() == "");
}
