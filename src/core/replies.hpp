// Saved replies (canned responses): the rules of their shortcuts and
// placeholders, who may change which, how a search ranks them, and the
// filling of a reply's placeholders from a conversation's facts. Pure.
#pragma once

#include "core/actor.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core {

// Shared by a team, or an agent's own.
enum class ReplyScope : std::uint8_t { team, personal };
std::string_view to_string(ReplyScope s) noexcept;
std::optional<ReplyScope> parse_reply_scope(std::string_view s) noexcept;

struct SavedReply {
  std::string id;
  ReplyScope scope = ReplyScope::personal;
  std::string team;   // team replies
  std::string owner;  // personal replies: the agent
  std::string shortcut;
  std::string title;
  std::string text;
  std::int64_t uses = 0;
};

inline constexpr std::size_t max_shortcut_chars = 32;
inline constexpr std::size_t max_reply_title_chars = 100;
inline constexpr std::size_t max_reply_text_bytes = 8000;

// A shortcut is what follows "/" in the reply box: 1..32 of a-z, 0-9, '-'
// and '_'.
bool valid_shortcut(std::string_view s) noexcept;

// The placeholders a reply may use, each filled from the conversation.
std::vector<std::string_view> const& known_placeholders() noexcept;

// Why a reply's text cannot be saved ("" when it can): an unknown
// placeholder, or "{{" without its "}}".
std::string template_problem(std::string_view text);

// The text with every {{name}} replaced by values[name]; names without a
// value become "" and are listed in `missing` (the console tells the agent
// before they send).
struct FilledReply {
  std::string text;
  std::vector<std::string> missing;
};
FilledReply fill(std::string_view text, std::map<std::string, std::string, std::less<>> const& values);

// May the actor see / change the reply? Agents: their teams' shared
// replies (see) and their own (both); supervisors: every shared reply
// (both) and their own.
bool may_see(Actor const& actor, SavedReply const& r);
bool may_change(Actor const& actor, SavedReply const& r);
// May the actor make a reply of this scope for this team?
bool may_create(Actor const& actor, ReplyScope scope, std::string_view team);

// How well a reply answers a search: 0 no match; a shortcut starting with
// the query ranks first, then one containing it, then the title, then the
// text. Case-insensitive.
int search_rank(SavedReply const& r, std::string_view query);

// The teams in "support,sales".
std::vector<std::string> split_teams(std::string_view csv);

}  // namespace exceed::core
