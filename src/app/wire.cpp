#include "app/wire.hpp"

#include "app/db.hpp"
#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>

#include <charconv>
#include <stdexcept>

namespace exceed::app {
namespace json = boost::json;
namespace {

// A stored time field ("" when not set) as ms, or null.
json::value stored_time_or_null(std::string_view s) {
  if (s.empty()) return nullptr;
  return to_int(s);
}

// The "did this solve it?" tap: "yes" / "no", or not given.
json::value solved_or_null(std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s == "yes"); }

json::value seconds_between(std::string_view from, std::string_view to) {
  if (from.empty() || to.empty()) return nullptr;
  return static_cast<double>(to_int(to) - to_int(from)) / 1000.0;
}

}  // namespace

json::object person(std::string_view id, std::string_view name) {
  json::object p;
  p["id"] = id;
  p["name"] = name;
  return p;
}

std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // a continuation byte
  return std::string(text.substr(0, end));
}

json::object parse_object(std::string_view text) {
  std::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

std::string offer_event(OfferFields const& f) {
  json::object ev;
  ev["conversation_id"] = f.conversation_id;
  ev["team"] = f.team;
  json::object visitor;
  visitor["id"] = f.visitor_id;
  visitor["name"] = f.visitor_name;
  ev["visitor"] = std::move(visitor);
  ev["priority"] = f.priority.empty() ? std::string("normal") : f.priority;
  ev["context"] = parse_object(f.context_json);
  ev["preview"] = f.preview;
  ev["expires_in_s"] = f.expires_in_s;
  return protocol::encode_event("conversation.offer", std::move(ev));
}

json::value seconds_or_null(std::optional<core::Millis> ms) {
  if (!ms) return nullptr;
  return static_cast<double>(*ms) / 1000.0;
}

json::value text_or_null(std::string const& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::value time_or_null(std::optional<core::Millis> t) { return t ? json::value(*t) : json::value(nullptr); }

json::value number_or_null(std::optional<double> v) {
  if (!v) return nullptr;
  return *v;
}

json::object message_json(store::Message const& m) {
  json::object j;
  j["conversation_id"] = m.conversation_id;
  j["seq"] = m.seq;
  j["ts"] = m.ts;
  json::object from;
  from["role"] = m.role == "customer" ? "customer" : m.role == "system" ? "system" : "agent";
  from["id"] = m.sender_id;
  from["name"] = m.sender_name;
  j["from"] = std::move(from);
  j["text"] = m.text;
  if (!m.client_msg_id.empty()) j["client_msg_id"] = m.client_msg_id;
  if (!m.attachment.empty()) {
    std::error_code ec;
    if (auto a = json::parse(m.attachment, ec); !ec && a.is_object()) j["attachment"] = std::move(a);
  }
  return j;
}

json::object conversation_json(store::Conversation const& record) {
  auto f = [&](std::string_view name) { return record.fields.text(name); };
  json::object c;
  c["id"] = f("id");
  c["status"] = f("status");
  c["team"] = f("team");
  c["priority"] = f("priority").empty() ? std::string_view("normal") : f("priority");
  json::object visitor;
  visitor["id"] = f("visitor");
  visitor["name"] = f("visitor_name");
  c["visitor"] = std::move(visitor);
  if (f("agent").empty()) {
    c["agent"] = nullptr;
  } else {
    json::object agent;
    agent["id"] = f("agent");
    agent["name"] = f("agent_name");
    c["agent"] = std::move(agent);
  }
  c["created_at"] = stored_time_or_null(f("created_at"));
  c["assigned_at"] = stored_time_or_null(f("assigned_at"));
  c["resolved_at"] = stored_time_or_null(f("resolved_at"));
  c["last_seq"] = record.last_seq;
  c["context"] = parse_object(f("context"));
  // Full figures once assessed; until then what the record itself tells.
  if (auto stored = parse_object(f("times")); !stored.empty()) {
    c["response_times"] = std::move(stored);
  } else {
    json::object times;
    times["queue_wait_s"] = seconds_between(f("created_at"), f("assigned_at"));
    times["first_response_s"] = seconds_between(f("first_customer_at"), f("first_response_at"));
    c["response_times"] = std::move(times);
  }
  if (auto a = parse_object(f("assessment")); !a.empty()) c["assessment"] = std::move(a);
  if (!f("ticket").empty()) c["ticket_id"] = f("ticket");
  if (!f("sla_policy").empty()) c["sla_policy"] = f("sla_policy");
  c["facts"] = facts_json(record.facts);
  if (f("csat_at").empty() && f("csat_rating").empty()) c["csat"] = nullptr;
  else c["csat"] = csat_json(record.facts.csat);
  return c;
}

json::object facts_json(store::Facts const& facts) {
  json::object out;
  out["customer_solved"] = solved_or_null(facts.csat.solved);
  out["outcome"] = text_or_null(facts.outcome);
  out["went_beyond"] = text_or_null(facts.went_beyond);
  return out;
}

json::object csat_json(store::CsatParts const& csat) {
  json::object out;
  out["rating"] = csat.rating ? json::value(*csat.rating) : json::value(nullptr);
  out["expectation"] = text_or_null(csat.expectation);
  out["comment"] = text_or_null(csat.comment);
  out["solved"] = solved_or_null(csat.solved);
  return out;
}

}  // namespace exceed::app
