#include "core/replies.hpp"

#include <algorithm>
#include <cctype>

namespace exceed::core {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool in_teams(std::string_view csv, std::string_view team) {
  auto teams = split_teams(csv);
  return std::find(teams.begin(), teams.end(), team) != teams.end();
}

}  // namespace

std::string_view to_string(ReplyScope s) noexcept { return s == ReplyScope::team ? "team" : "personal"; }

std::optional<ReplyScope> parse_reply_scope(std::string_view s) noexcept {
  if (s == "team") return ReplyScope::team;
  if (s == "personal") return ReplyScope::personal;
  return std::nullopt;
}

bool valid_shortcut(std::string_view s) noexcept {
  if (s.empty() || s.size() > max_shortcut_chars) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::vector<std::string_view> const& known_placeholders() noexcept {
  static std::vector<std::string_view> const names{"customer.name", "agent.name", "conversation.id", "page.url",
                                                   "cart.items",    "cart.value", "cart.currency"};
  return names;
}

std::string template_problem(std::string_view text) {
  auto const& known = known_placeholders();
  for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at)) {
    auto end = text.find("}}", at + 2);
    if (end == std::string_view::npos) return "a placeholder opened with {{ is not closed with }}";
    auto name = trim(text.substr(at + 2, end - at - 2));
    if (std::find(known.begin(), known.end(), name) == known.end())
      return "unknown placeholder {{" + std::string(name.substr(0, 40)) + "}}";
    at = end + 2;
  }
  return {};
}

FilledReply fill(std::string_view text, std::map<std::string, std::string, std::less<>> const& values) {
  FilledReply out;
  std::size_t from = 0;
  for (std::size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", from)) {
    auto end = text.find("}}", at + 2);
    if (end == std::string_view::npos) break;
    out.text.append(text.substr(from, at - from));
    auto name = trim(text.substr(at + 2, end - at - 2));
    auto it = values.find(name);
    if (it != values.end() && !it->second.empty()) {
      out.text += it->second;
    } else if (std::find(out.missing.begin(), out.missing.end(), name) == out.missing.end()) {
      out.missing.emplace_back(name);
    }
    from = end + 2;
  }
  out.text.append(text.substr(std::min(from, text.size())));
  return out;
}

bool may_see(Actor const& actor, SavedReply const& r) {
  if (r.scope == ReplyScope::personal) return r.owner == actor.user_id;
  if (actor.role == Role::supervisor) return true;
  return actor.role == Role::agent && in_teams(actor.teams_csv, r.team);
}

bool may_change(Actor const& actor, SavedReply const& r) {
  if (r.scope == ReplyScope::personal) return r.owner == actor.user_id;
  return actor.role == Role::supervisor;
}

bool may_create(Actor const& actor, ReplyScope scope, std::string_view team) {
  if (actor.role == Role::customer) return false;
  if (scope == ReplyScope::personal) return true;
  return actor.role == Role::supervisor && !team.empty();
}

int search_rank(SavedReply const& r, std::string_view query) {
  auto q = lower(trim(query));
  if (!q.empty() && q.front() == '/') q.erase(0, 1);
  if (q.empty()) return 1;
  auto shortcut = lower(r.shortcut);
  if (shortcut.rfind(q, 0) == 0) return 4;
  if (shortcut.find(q) != std::string::npos) return 3;
  if (lower(r.title).find(q) != std::string::npos) return 2;
  if (lower(r.text).find(q) != std::string::npos) return 1;
  return 0;
}

std::vector<std::string> split_teams(std::string_view csv) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= csv.size();) {
    auto comma = csv.find(',', start);
    auto end = comma == std::string_view::npos ? csv.size() : comma;
    if (end > start) out.emplace_back(csv.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace exceed::core
