#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <functional>
#include <limits>
#include <unordered_map>

namespace exceed::protocol {
namespace json = boost::json;
namespace {

// Thrown inside decode() only, to leave a field check at once; decode()
// catches it and never lets it out.
struct Invalid {
  std::string message;
  error code = error::bad_request;
};

[[noreturn]] void invalid(std::string message) { throw Invalid{std::move(message)}; }
[[noreturn]] void too_large(std::string message) { throw Invalid{std::move(message), error::too_large}; }

json::value const* find(json::object const& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

// `oversize` is the code for a string over max_len: too_large for free
// text (the client can shorten it), bad_request for identifiers.
std::string string_field(json::object const& o, std::string_view key, std::size_t max_len,
                         std::size_t min_len = 1, error oversize = error::bad_request) {
  auto const* v = find(o, key);
  if (!v) invalid("missing field '" + std::string(key) + "'");
  if (!v->is_string()) invalid("field '" + std::string(key) + "' must be a string");
  auto const& s = v->get_string();
  if (s.size() < min_len) invalid("field '" + std::string(key) + "' must not be empty");
  if (s.size() > max_len) {
    auto text = "field '" + std::string(key) + "' is longer than " + std::to_string(max_len) + " bytes";
    if (oversize == error::too_large) too_large(std::move(text));
    invalid(std::move(text));
  }
  return std::string(s);
}

std::optional<std::string> optional_string(json::object const& o, std::string_view key,
                                           std::size_t max_len, error oversize = error::bad_request) {
  if (!find(o, key)) return std::nullopt;
  return string_field(o, key, max_len, 1, oversize);
}

std::string message_text(json::object const& o) {
  return string_field(o, "text", max_text_bytes, 1, error::too_large);
}

// At most max_bytes of valid UTF-8 text, cut at a character boundary: a
// cut inside a character made the error frame echoing it invalid UTF-8,
// which a browser answers by closing the WebSocket (1007). Found by
// fuzz_frame_decoder.
std::string utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut));
}

// Characters (code points) of valid UTF-8, which Boost.JSON guarantees.
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::int64_t int_field(json::object const& o, std::string_view key, std::int64_t lo, std::int64_t hi) {
  auto const* v = find(o, key);
  if (!v) invalid("missing field '" + std::string(key) + "'");
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    invalid("field '" + std::string(key) + "' is out of range");
  } else if (v->is_double()) {
    double d = v->get_double();
    // Range first: converting a double outside int64 (1e400 parses as
    // infinity) is undefined behaviour, found by fuzz_frame_decoder.
    if (!(d >= -9.0e15 && d <= 9.0e15) || d != static_cast<double>(static_cast<std::int64_t>(d)))
      invalid("field '" + std::string(key) + "' must be an integer");
    n = static_cast<std::int64_t>(d);
  } else {
    invalid("field '" + std::string(key) + "' must be an integer");
  }
  if (n < lo || n > hi)
    invalid("field '" + std::string(key) + "' must be between " + std::to_string(lo) + " and " +
            std::to_string(hi));
  return n;
}

std::optional<std::int64_t> optional_int(json::object const& o, std::string_view key, std::int64_t lo,
                                         std::int64_t hi) {
  if (!find(o, key)) return std::nullopt;
  return int_field(o, key, lo, hi);
}

bool bool_field(json::object const& o, std::string_view key) {
  auto const* v = find(o, key);
  if (!v) invalid("missing field '" + std::string(key) + "'");
  if (!v->is_bool()) invalid("field '" + std::string(key) + "' must be true or false");
  return v->get_bool();
}

std::string conversation_id(json::object const& o) { return string_field(o, "conversation_id", max_id_chars); }

constexpr std::int64_t max_seq = std::int64_t{1} << 53;

using Decoder = std::function<Command(json::object const&)>;

Command decode_hello(json::object const& o) {
  Hello h;
  h.token = string_field(o, "token", 4096);
  if (auto const* r = find(o, "resume")) {
    if (!r->is_array()) invalid("field 'resume' must be an array");
    if (r->get_array().size() > 100) invalid("field 'resume' names more than 100 conversations");
    for (auto const& item : r->get_array()) {
      if (!item.is_object()) invalid("each 'resume' entry must be an object");
      auto const& e = item.get_object();
      h.resume.push_back({conversation_id(e), optional_int(e, "after_seq", 0, max_seq).value_or(0)});
    }
  }
  return h;
}

Command decode_start(json::object const& o) {
  ConversationStart s;
  s.text = optional_string(o, "text", max_text_bytes, error::too_large);
  s.team = optional_string(o, "team", max_id_chars);
  if (auto p = optional_string(o, "priority", 16)) {
    auto parsed = core::parse_priority(*p);
    if (!parsed) invalid("field 'priority' must be one of low, normal, high, urgent");
    s.priority = *parsed;
  }
  if (auto const* c = find(o, "context")) {
    if (!c->is_object()) invalid("field 'context' must be an object");
    s.context_json = json::serialize(*c);
    if (s.context_json.size() > 4096) invalid("field 'context' is larger than 4096 bytes");
    if (auto const* st = find(c->get_object(), "stage")) {
      if (!st->is_string()) invalid("field 'context.stage' must be a string");
      auto const& stage = st->get_string();
      if (stage != "pre_purchase" && stage != "purchase" && stage != "post_purchase")
        invalid("field 'context.stage' must be one of pre_purchase, purchase, post_purchase");
      s.stage = std::string(stage);
    }
  }
  s.invitation_id = optional_string(o, "invitation_id", max_id_chars);
  return s;
}

Command decode_csat(json::object const& o) {
  CsatSubmit c;
  c.conversation_id = conversation_id(o);
  if (auto r = optional_int(o, "rating", 1, 5)) c.rating = static_cast<int>(*r);
  c.expectation = optional_string(o, "expectation", 16);
  if (c.expectation && *c.expectation != "below" && *c.expectation != "met" && *c.expectation != "exceeded")
    invalid("field 'expectation' must be one of below, met, exceeded");
  c.comment = optional_string(o, "comment", max_comment_chars * 4, error::too_large);
  if (c.comment && utf8_length(*c.comment) > max_comment_chars)
    too_large("field 'comment' is longer than " + std::to_string(max_comment_chars) + " characters");
  if (find(o, "solved")) c.solved = bool_field(o, "solved");
  if (!c.rating && !c.expectation && !c.comment && !c.solved)
    invalid("give at least one of 'rating', 'expectation', 'comment' and 'solved'");
  return c;
}

Command decode_outcome(json::object const& o) {
  ConversationOutcome c;
  c.conversation_id = conversation_id(o);
  c.outcome = optional_string(o, "outcome", 16);
  if (c.outcome && *c.outcome != "solved" && *c.outcome != "workaround" && *c.outcome != "not_solved")
    invalid("field 'outcome' must be one of solved, workaround, not_solved");
  c.went_beyond = optional_string(o, "went_beyond", max_went_beyond_chars * 4, error::too_large);
  if (c.went_beyond && utf8_length(*c.went_beyond) > max_went_beyond_chars)
    too_large("field 'went_beyond' is longer than " + std::to_string(max_went_beyond_chars) + " characters");
  if (!c.outcome && !c.went_beyond) invalid("give at least one of 'outcome' and 'went_beyond'");
  return c;
}

Command decode_status(json::object const& o) {
  AgentStatusSet s;
  auto status = core::parse_agent_status(string_field(o, "status", 16));
  if (!status) invalid("field 'status' must be one of online, away, offline");
  s.status = *status;
  if (auto cap = optional_int(o, "capacity", 1, max_capacity)) s.capacity = static_cast<int>(*cap);
  return s;
}

Command decode_followup(json::object const& o) {
  FollowupCreate f;
  f.conversation_id = optional_string(o, "conversation_id", max_id_chars);
  f.ticket_id = optional_string(o, "ticket_id", max_id_chars);
  if (f.conversation_id.has_value() == f.ticket_id.has_value())
    invalid("give exactly one of 'conversation_id' and 'ticket_id'");
  f.due_at = int_field(o, "due_at", 0, max_seq);
  f.note = string_field(o, "note", max_note_chars * 4, 1, error::too_large);
  if (utf8_length(f.note) > max_note_chars)
    too_large("field 'note' is longer than " + std::to_string(max_note_chars) + " characters");
  if (auto kind = optional_string(o, "kind", max_kind_chars * 4)) {
    if (utf8_length(*kind) > max_kind_chars) invalid("field 'kind' is longer than 64 characters");
    f.kind = *kind;
  }
  f.owner_id = optional_string(o, "owner_id", max_id_chars);
  return f;
}

Command decode_transfer(json::object const& o) {
  ConversationTransfer t;
  t.conversation_id = conversation_id(o);
  t.to_agent_id = optional_string(o, "to_agent_id", max_id_chars);
  t.to_team = optional_string(o, "to_team", max_id_chars);
  if (t.to_agent_id.has_value() == t.to_team.has_value())
    invalid("give exactly one of 'to_agent_id' and 'to_team'");
  return t;
}

// ------------------------------------------------------------ visitors
// Every field a shop's page reports is hostile until read here: addresses
// are cleaned to scheme, host and path, text is bounded, numbers are finite
// and in range; anything else is refused and nothing of it is kept.

double number_field(json::object const& o, std::string_view key, double lo, double hi) {
  auto const* v = find(o, key);
  if (!v) invalid("missing field '" + std::string(key) + "'");
  if (!v->is_number()) invalid("field '" + std::string(key) + "' must be a number");
  double d = v->to_number<double>();
  if (!(d >= lo && d <= hi)) invalid("field '" + std::string(key) + "' is out of range");
  return d;
}

std::string page_address(json::object const& o, std::string_view key, bool required) {
  auto const* v = find(o, key);
  if (!v && !required) return {};
  if (!v) invalid("missing field '" + std::string(key) + "'");
  if (!v->is_string()) invalid("field '" + std::string(key) + "' must be a string");
  auto const& s = v->get_string();
  if (s.size() > max_url_bytes) too_large("field '" + std::string(key) + "' is longer than 2048 bytes");
  if (s.empty() && !required) return {};
  auto clean = core::clean_page_url(s);
  if (!clean) invalid("field '" + std::string(key) + "' must be an absolute http(s) URL");
  return *clean;
}

std::string bounded_text(json::object const& o, std::string_view key, std::size_t max_chars) {
  auto s = optional_string(o, key, max_chars * 4, error::too_large);
  if (!s) return {};
  if (utf8_length(*s) > max_chars)
    too_large("field '" + std::string(key) + "' is longer than " + std::to_string(max_chars) + " characters");
  return *s;
}

Command decode_page(json::object const& o) {
  VisitorPage p;
  p.url = page_address(o, "url", true);
  p.referrer = page_address(o, "referrer", false);
  p.title = bounded_text(o, "title", max_title_chars);
  return p;
}

Command decode_track(json::object const& o) {
  VisitorTrack t;
  t.event = string_field(o, "event", 16);
  json::object const* data = nullptr;
  if (auto const* d = find(o, "data")) {
    if (!d->is_object()) invalid("field 'data' must be an object");
    if (json::serialize(*d).size() > max_track_bytes) too_large("field 'data' is larger than 1024 bytes");
    data = &d->get_object();
  }
  if (t.event == "cart") {
    if (!data) invalid("a cart needs 'data': {items, value, currency}");
    core::Cart c;
    c.items = int_field(*data, "items", 0, 10'000);
    c.value = number_field(*data, "value", 0, 1e9);
    c.currency = string_field(*data, "currency", 3, 3);
    for (char ch : c.currency)
      if (ch < 'A' || ch > 'Z') invalid("field 'currency' must be three capital letters (ISO 4217)");
    t.cart = std::move(c);
  } else if (t.event != "purchase") {
    invalid("field 'event' must be cart or purchase");
  }
  return t;
}

Command decode_visitors_subscribe(json::object const& o) {
  VisitorsSubscribe s;
  if (auto const* f = find(o, "filter")) {
    if (!f->is_object()) invalid("field 'filter' must be an object");
    auto const& fo = f->get_object();
    if (auto page = optional_string(fo, "page", 800)) {
      if (utf8_length(*page) > 200) invalid("field 'page' is longer than 200 characters");
      s.filter.page = *page;
    }
    if (find(fo, "in_checkout")) s.filter.in_checkout = bool_field(fo, "in_checkout");
    if (find(fo, "cart_min")) s.filter.cart_min = number_field(fo, "cart_min", 0, 1e9);
  }
  s.limit = static_cast<int>(optional_int(o, "limit", 1, max_visitors_limit).value_or(200));
  return s;
}

Command decode_invite(json::object const& o) {
  VisitorInvite v;
  v.visitor_id = string_field(o, "visitor_id", max_id_chars);
  if (auto text = bounded_text(o, "text", max_invitation_chars); !text.empty()) v.text = std::move(text);
  return v;
}

std::unordered_map<std::string_view, Decoder> const& decoders() {
  static std::unordered_map<std::string_view, Decoder> const table{
      {"hello", decode_hello},
      {"message.send",
       [](auto const& o) -> Command {
         return MessageSend{conversation_id(o), string_field(o, "client_msg_id", max_client_msg_id),
                            message_text(o), optional_string(o, "attachment_id", max_id_chars)};
       }},
      {"typing", [](auto const& o) -> Command { return Typing{conversation_id(o), bool_field(o, "state")}; }},
      {"read", [](auto const& o) -> Command { return Read{conversation_id(o), int_field(o, "seq", 0, max_seq)}; }},
      {"history.get",
       [](auto const& o) -> Command {
         return HistoryGet{conversation_id(o), optional_int(o, "after_seq", 0, max_seq).value_or(0),
                           static_cast<int>(optional_int(o, "limit", 1, max_history_limit).value_or(50))};
       }},
      {"conversation.start", decode_start},
      {"csat.submit", decode_csat},
      {"agent.status", decode_status},
      {"conversation.accept", [](auto const& o) -> Command { return ConversationAccept{conversation_id(o)}; }},
      {"conversation.decline", [](auto const& o) -> Command { return ConversationDecline{conversation_id(o)}; }},
      {"note.add",
       [](auto const& o) -> Command { return NoteAdd{conversation_id(o), message_text(o)}; }},
      {"conversation.transfer", decode_transfer},
      {"conversation.resolve", [](auto const& o) -> Command { return ConversationResolve{conversation_id(o)}; }},
      {"conversation.outcome", decode_outcome},
      {"conversation.assign",
       [](auto const& o) -> Command {
         return ConversationAssign{conversation_id(o), string_field(o, "agent_id", max_id_chars)};
       }},
      {"followup.create", decode_followup},
      {"followup.complete",
       [](auto const& o) -> Command { return FollowupComplete{string_field(o, "followup_id", max_id_chars)}; }},
      {"metrics.subscribe", [](auto const&) -> Command { return MetricsSubscribe{}; }},
      {"visitor.page", decode_page},
      {"visitor.track", decode_track},
      {"invitation.accept",
       [](auto const& o) -> Command { return InvitationAnswer{string_field(o, "invitation_id", max_id_chars), true}; }},
      {"invitation.dismiss",
       [](auto const& o) -> Command { return InvitationAnswer{string_field(o, "invitation_id", max_id_chars), false}; }},
      {"visitors.subscribe", decode_visitors_subscribe},
      {"visitors.unsubscribe", [](auto const&) -> Command { return VisitorsUnsubscribe{}; }},
      {"visitor.invite", decode_invite},
      {"review.list",
       [](auto const& o) -> Command {
         ReviewList r;
         r.level = optional_string(o, "level", 16);
         if (r.level && *r.level != "met" && *r.level != "below")
           invalid("field 'level' must be met or below (exceeded conversations are not reviewed)");
         r.team = optional_string(o, "team", max_id_chars);
         r.stage = optional_string(o, "stage", 16);
         if (r.stage && *r.stage != "pre_purchase" && *r.stage != "purchase" && *r.stage != "post_purchase" &&
             *r.stage != "none")
           invalid("field 'stage' must be one of pre_purchase, purchase, post_purchase, none");
         r.limit = static_cast<int>(optional_int(o, "limit", 1, max_history_limit).value_or(50));
         return r;
       }},
  };
  return table;
}

// Frames that are events or relays carry no id; every other one must.
bool needs_id(std::string_view type) { return type != "hello" && type != "typing" && type != "read"; }

}  // namespace

std::variant<Request, DecodeError> decode(std::string_view frame) {
  json::parse_options opts;
  opts.max_depth = max_json_depth;
  std::error_code ec;
  json::value root = json::parse(frame, ec, {}, opts);
  if (ec) return DecodeError{error::bad_request, "malformed JSON: " + ec.message(), nullptr};
  if (!root.is_object()) return DecodeError{error::bad_request, "a frame must be a JSON object", nullptr};
  auto const& o = root.get_object();

  json::value id = nullptr;
  if (auto const* v = find(o, "id")) {
    bool ok = (v->is_string() && v->get_string().size() <= max_id_chars && !v->get_string().empty()) ||
              v->is_int64() || v->is_uint64();
    if (!ok) return DecodeError{error::bad_request, "field 'id' must be a non-empty string or an integer", nullptr};
    id = *v;
  }
  auto const* type = find(o, "type");
  if (!type || !type->is_string()) return DecodeError{error::bad_request, "missing field 'type'", id};
  std::string_view type_name = type->get_string();
  auto const& table = decoders();
  auto it = table.find(type_name);
  if (it == table.end())
    return DecodeError{error::bad_request, "unknown frame type '" + utf8_prefix(type_name, 64) + "'", id};
  if (needs_id(type_name) && id.is_null())
    return DecodeError{error::bad_request, "a request needs an 'id'", nullptr};
  try {
    return Request{std::string(type_name), id, it->second(o)};
  } catch (Invalid const& e) {
    return DecodeError{e.code, e.message, id};
  }
}

bool allowed(Command const& c, core::Role role) noexcept {
  using core::Role;
  return std::visit(
      [role](auto const& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, ConversationStart> || std::is_same_v<T, CsatSubmit> ||
                      std::is_same_v<T, VisitorPage> || std::is_same_v<T, VisitorTrack> ||
                      std::is_same_v<T, InvitationAnswer>)
          return role == Role::customer;
        else if constexpr (std::is_same_v<T, VisitorsSubscribe> || std::is_same_v<T, VisitorsUnsubscribe> ||
                           std::is_same_v<T, VisitorInvite>)
          return role != Role::customer;
        else if constexpr (std::is_same_v<T, AgentStatusSet> || std::is_same_v<T, ConversationAccept> ||
                           std::is_same_v<T, ConversationDecline>)
          return role == Role::agent;
        else if constexpr (std::is_same_v<T, NoteAdd> || std::is_same_v<T, ConversationTransfer> ||
                           std::is_same_v<T, ConversationResolve> || std::is_same_v<T, ConversationOutcome>)
          return role == Role::agent || role == Role::supervisor;
        else if constexpr (std::is_same_v<T, ConversationAssign> || std::is_same_v<T, ReviewList> ||
                           std::is_same_v<T, MetricsSubscribe>)
          return role == Role::supervisor;
        else if constexpr (std::is_same_v<T, FollowupCreate> || std::is_same_v<T, FollowupComplete>)
          return role != Role::customer;
        else if constexpr (std::is_same_v<T, MessageSend> || std::is_same_v<T, Typing> || std::is_same_v<T, Read>)
          return role != Role::supervisor;  // a message's author is a customer or an agent
        else
          return true;
      },
      c);
}

std::string encode_ack(json::value const& id, json::object result) {
  json::object frame;
  frame.reserve(result.size() + 2);
  frame["type"] = "ack";
  frame["id"] = id;
  for (auto& kv : result) frame[kv.key()] = std::move(kv.value());
  return json::serialize(frame);
}

namespace {

// Ends a frame whose leading members are written: JsonOut's members, then '}'.
std::string with_members(std::string frame, JsonOut const& fields) {
  auto const members = fields.members();
  if (!members.empty()) frame.push_back(',');
  frame.append(members);
  frame.push_back('}');
  return frame;
}

}  // namespace

std::string encode_ack(json::value const& id, JsonOut const& result) {
  std::string frame;
  frame.reserve(result.members().size() + 48);
  frame.append(R"({"type":"ack","id":)");
  if (id.is_string())
    append_json_string(frame, id.get_string());
  else
    frame.append(json::serialize(id));
  return with_members(std::move(frame), result);
}

std::string encode_error(json::value const& id, error code, std::string_view message) {
  count_error(code);
  json::object frame;
  frame["type"] = "error";
  if (!id.is_null()) frame["id"] = id;
  frame["code"] = code_name(code);
  frame["message"] = message;
  return json::serialize(frame);
}

std::string encode_event(std::string_view type, json::object fields) {
  json::object frame;
  frame.reserve(fields.size() + 1);
  frame["type"] = type;
  for (auto& kv : fields) frame[kv.key()] = std::move(kv.value());
  return json::serialize(frame);
}

std::string encode_event(std::string_view type, JsonOut const& fields) {
  std::string frame;
  frame.reserve(fields.members().size() + type.size() + 16);
  frame.append(R"({"type":)");
  append_json_string(frame, type);
  return with_members(std::move(frame), fields);
}

}  // namespace exceed::protocol
