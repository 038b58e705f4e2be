// Client frames decoded into typed commands, and the server's frames
// encoded. Decoding validates everything the contract says about a frame
// (types, ranges, lengths), so the layers above see only well-formed
// commands; anything else becomes a DecodeError carrying the code and, when
// it could be read, the request id to echo.
#pragma once

#include "core/domain.hpp"
#include "core/visitors.hpp"
#include "protocol/errors.hpp"
#include "protocol/json_out.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace exceed::protocol {

inline constexpr std::size_t max_text_bytes = 8000;
inline constexpr std::size_t max_client_msg_id = 64;
inline constexpr std::size_t max_id_chars = 128;  // conversation, agent and request ids
inline constexpr std::size_t max_comment_chars = 2000;
inline constexpr int max_history_limit = 200;
inline constexpr int max_capacity = 50;
inline constexpr int max_json_depth = 32;

struct Resume {
  std::string conversation_id;
  std::int64_t after_seq = 0;
};

struct Hello {
  std::string token;
  std::vector<Resume> resume;
};
struct MessageSend {
  std::string conversation_id;
  std::string client_msg_id;
  std::string text;
  std::optional<std::string> attachment_id;  // a file uploaded to this conversation (POST /api/v1/attachments)
};
struct Typing {
  std::string conversation_id;
  bool state = false;
};
struct Read {
  std::string conversation_id;
  std::int64_t seq = 0;
};
struct HistoryGet {
  std::string conversation_id;
  std::int64_t after_seq = 0;
  int limit = 50;
};
struct ConversationStart {
  std::optional<std::string> text;
  std::optional<std::string> team;
  core::Priority priority = core::Priority::normal;
  std::string context_json = "{}";  // the context object, re-serialised
  std::optional<std::string> stage;  // context.stage when given
  std::optional<std::string> invitation_id;  // started from this invitation
};
// The customer's answer, any part of it on its own (at least one part).
struct CsatSubmit {
  std::string conversation_id;
  std::optional<int> rating;               // 1..5
  std::optional<std::string> expectation;  // below | met | exceeded
  std::optional<std::string> comment;
  std::optional<bool> solved;              // "Did this solve it?" yes / not really
};
struct AgentStatusSet {
  core::AgentStatus status = core::AgentStatus::offline;
  std::optional<int> capacity;
};
struct ConversationAccept {
  std::string conversation_id;
};
struct ConversationDecline {
  std::string conversation_id;
};
struct NoteAdd {
  std::string conversation_id;
  std::string text;
};
struct ConversationTransfer {
  std::string conversation_id;
  std::optional<std::string> to_agent_id;
  std::optional<std::string> to_team;
};
struct ConversationResolve {
  std::string conversation_id;
};
struct ConversationAssign {
  std::string conversation_id;
  std::string agent_id;
};
// The agent records how it ended: the outcome and/or what they gave beyond
// the ask (at least one).
struct ConversationOutcome {
  std::string conversation_id;
  std::optional<std::string> outcome;      // solved | workaround | not_solved
  std::optional<std::string> went_beyond;  // one line of what was given
};
inline constexpr std::size_t max_went_beyond_chars = 300;

struct FollowupCreate {
  std::optional<std::string> conversation_id;
  std::optional<std::string> ticket_id;
  std::int64_t due_at = 0;
  std::string note;
  std::string kind = "reminder";
  std::optional<std::string> owner_id;  // default: the sender
};
struct FollowupComplete {
  std::string followup_id;
};

inline constexpr std::size_t max_note_chars = 2000;
inline constexpr std::size_t max_kind_chars = 64;

struct ReviewList {
  std::optional<std::string> level;  // met | below (default: both)
  std::optional<std::string> team;
  std::optional<std::string> stage;  // pre_purchase | purchase | post_purchase | none
  int limit = 50;
};

// A supervisor asks for the live `metrics` events.
struct MetricsSubscribe {};

// Visitors browsing the shop (the widget, once the page asked it to track):
// the page they are on, the shop's facts, their answer to an invitation.
struct VisitorPage {
  std::string url;  // cleaned: scheme, host and path (core::clean_page_url)
  std::string title;
  std::string referrer;  // cleaned too, or ""
};
struct VisitorTrack {
  std::string event;  // cart | purchase
  std::optional<core::Cart> cart;
};
struct InvitationAnswer {
  std::string invitation_id;
  bool accepted = false;  // invitation.accept, or invitation.dismiss
};
// Agents and supervisors: the live list of visitors, and inviting one.
struct VisitorsSubscribe {
  core::VisitorFilter filter;
  int limit = 200;
};
struct VisitorsUnsubscribe {};
struct VisitorInvite {
  std::string visitor_id;
  std::optional<std::string> text;
};
inline constexpr std::size_t max_url_bytes = 2048;
inline constexpr std::size_t max_title_chars = 300;
inline constexpr std::size_t max_track_bytes = 1024;
inline constexpr std::size_t max_invitation_chars = 500;
inline constexpr int max_visitors_limit = 500;

using Command = std::variant<Hello, MessageSend, Typing, Read, HistoryGet, ConversationStart,
                             CsatSubmit, AgentStatusSet, ConversationAccept, ConversationDecline,
                             NoteAdd, ConversationTransfer, ConversationResolve, ConversationAssign,
                             FollowupCreate, FollowupComplete, ReviewList, MetricsSubscribe, ConversationOutcome,
                             VisitorPage, VisitorTrack, InvitationAnswer, VisitorsSubscribe, VisitorsUnsubscribe,
                             VisitorInvite>;

struct Request {
  std::string type;       // the frame's "type"
  boost::json::value id;  // null for frames without one (hello, typing, read)
  Command command;
};

struct DecodeError {
  error code = error::bad_request;
  std::string message;
  boost::json::value id;  // null when it could not be read
};

// Decodes one client text frame. Never throws.
std::variant<Request, DecodeError> decode(std::string_view frame);

// The roles that may send a command (PROTOCOL.md: a frame type the sender's
// role may not use gets `forbidden`).
bool allowed(Command const& c, core::Role role) noexcept;

// Server frames. Each returns the serialised text of one frame.
std::string encode_ack(boost::json::value const& id, boost::json::object result = {});
std::string encode_error(boost::json::value const& id, error code, std::string_view message);
// An event: `fields` gets "type": type added in front.
std::string encode_event(std::string_view type, boost::json::object fields);
// The same two from members written by JsonOut (json_out.hpp), for the hot path.
std::string encode_ack(boost::json::value const& id, JsonOut const& result);
std::string encode_event(std::string_view type, JsonOut const& fields);

}  // namespace exceed::protocol
