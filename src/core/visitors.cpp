#include "core/visitors.hpp"

#include <algorithm>
#include <cctype>

namespace exceed::core {

namespace {

bool ieq_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

bool contains_nocase(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

}  // namespace

// ------------------------------------------------------------------ pages

std::optional<std::string> clean_page_url(std::string_view url) {
  std::string_view scheme;
  if (ieq_prefix(url, "https://")) scheme = "https://";
  else if (ieq_prefix(url, "http://")) scheme = "http://";
  else return std::nullopt;
  for (unsigned char c : url)
    if (c < 0x20 || c == 0x7f || c == ' ') return std::nullopt;
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  // user:password@ in an address is a secret, never something to show.
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty() || authority.front() == ':') return std::nullopt;
  std::string out(scheme);
  for (char c : authority) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += path;
  return out;
}

std::string_view url_path(std::string_view url) {
  auto start = url.find("://");
  if (start == std::string_view::npos) return "/";
  auto slash = url.find('/', start + 3);
  return slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
}

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// ------------------------------------------------------------------ visits

bool visit_continues(Visit const& v, Millis now, Millis quiet) noexcept {
  return !v.visit_id.empty() && v.last_seen > 0 && now - v.last_seen < quiet;
}

Millis visit_expiry(Visit const& v, PresenceTimes const& t, Millis now) noexcept {
  if (v.connections > 0) return std::min(v.last_seen + t.quiet, now + t.ttl);
  return std::max(v.left_at, v.last_seen) + t.linger;
}

bool in_checkout(std::string_view url, std::vector<std::string> const& patterns) {
  auto path = url_path(url);
  return std::any_of(patterns.begin(), patterns.end(), [&](std::string const& p) { return glob_match(p, path); });
}

Visit on_page(std::optional<Visit> const& stored, PageView const& p, PresenceTimes const& t, Millis now) {
  Visit v;
  if (stored && visit_continues(*stored, now, t.quiet)) {
    v = *stored;
  } else {
    v.visitor_id = p.visitor_id;
    v.visit_id = p.new_visit_id;
    v.visit_started_at = now;
    v.referrer = p.referrer;
    v.returning = stored.has_value();
    if (stored) {
      v.connections = stored->connections;
      v.rev = stored->rev;
    }
  }
  v.name = p.name;
  v.identified = p.identified;
  v.page_url = p.url;
  v.page_title = p.title;
  v.page_started_at = now;
  v.last_seen = now;
  v.pages_seen += 1;
  v.in_checkout = p.in_checkout;
  if (p.new_tab) v.connections += 1;
  v.connections = std::max(v.connections, 1);  // a page comes from an open tab
  v.left_at = 0;
  v.expires_at = visit_expiry(v, t, now);
  return v;
}

Visit on_cart(Visit v, Cart const& cart, PresenceTimes const& t, Millis now) {
  if (cart.items > 0 || cart.value > 0) v.cart = cart;
  else v.cart.reset();
  v.last_seen = now;
  v.expires_at = visit_expiry(v, t, now);
  return v;
}

Visit on_purchase(Visit v, PresenceTimes const& t, Millis now) {
  v.purchased = true;
  v.cart.reset();
  v.last_seen = now;
  v.expires_at = visit_expiry(v, t, now);
  return v;
}

Visit on_tab_closed(Visit v, PresenceTimes const& t, Millis now) {
  v.connections = std::max(0, v.connections - 1);
  if (v.connections == 0) v.left_at = now;
  v.expires_at = visit_expiry(v, t, now);
  return v;
}

std::string_view stage_of(Visit const& v) noexcept { return v.purchased ? "post_purchase" : "pre_purchase"; }

// ------------------------------------------------------------ invitations

std::string_view to_string(InviteBlock b) noexcept {
  switch (b) {
    case InviteBlock::none: return "none";
    case InviteBlock::tracking: return "tracking";
    case InviteBlock::gone: return "gone";
    case InviteBlock::dismissed: return "dismissed";
    case InviteBlock::chatting: return "chatting";
    case InviteBlock::pending: return "pending";
    case InviteBlock::per_visit: return "per_visit";
    case InviteBlock::too_soon: return "too_soon";
  }
  return "none";
}

InviteBlock may_invite(Visit const& v, InvitationLimits const& limits, Millis now) noexcept {
  if (v.page_url.empty()) return InviteBlock::tracking;
  if (v.connections <= 0) return InviteBlock::gone;
  if (!v.conversation_id.empty()) return InviteBlock::chatting;
  if (v.dismissed) return InviteBlock::dismissed;
  if (v.invitation_state == "shown" || v.invitation_state == "accepted") return InviteBlock::pending;
  if (v.invitations >= limits.per_visit) return InviteBlock::per_visit;
  if (v.invited_at > 0 && now - v.invited_at < limits.min_gap) return InviteBlock::too_soon;
  return InviteBlock::none;
}

Visit on_invited(Visit v, Invitation const& inv, Millis now) {
  v.invitation_id = inv.id;
  v.invitation_rule = inv.rule;
  v.invitation_text = inv.text;
  v.invitation_team = inv.team;
  v.invitation_from_id = inv.from_id;
  v.invitation_from_name = inv.from_name;
  v.invitation_state = "shown";
  v.invitations += 1;
  v.invited_at = now;
  return v;
}

std::optional<Visit> on_answer(Visit v, std::string_view id, bool accepted) {
  if (v.invitation_id.empty() || v.invitation_id != id || v.invitation_state != "shown") return std::nullopt;
  v.invitation_state = accepted ? "accepted" : "dismissed";
  if (!accepted) v.dismissed = true;
  return v;
}

Visit on_chat(Visit v, std::string conversation_id, bool from_invitation) {
  v.conversation_id = std::move(conversation_id);
  if (from_invitation) v.invitation_state = "chat";
  return v;
}

bool rule_matches(InvitationRule const& rule, Visit const& v, Millis now) {
  if (!rule.page.empty() && !glob_match(rule.page, url_path(v.page_url))) return false;
  if (now - v.page_started_at < rule.time_on_page) return false;
  if (v.pages_seen < rule.pages_seen) return false;
  if (rule.cart_value > 0 && (!v.cart || v.cart->value < rule.cart_value)) return false;
  if (rule.returning == InvitationRule::Returning::yes && !v.returning) return false;
  if (rule.returning == InvitationRule::Returning::no && v.returning) return false;
  return true;
}

// ---------------------------------------------------------- the live list

bool matches(VisitorFilter const& f, Visit const& v) {
  if (f.in_checkout && *f.in_checkout != v.in_checkout) return false;
  if (f.cart_min && (!v.cart || v.cart->value < *f.cart_min)) return false;
  return contains_nocase(url_path(v.page_url), f.page) || contains_nocase(v.page_title, f.page);
}

void LiveVisitors::put(Visit v) {
  auto it = visits_.find(v.visitor_id);
  if (it != visits_.end() && it->second.rev >= v.rev) return;
  auto id = v.visitor_id;
  visits_.insert_or_assign(std::move(id), std::move(v));
  ++generation_;
}

void LiveVisitors::remove(std::string const& visitor_id) {
  if (visits_.erase(visitor_id)) ++generation_;
}

std::size_t LiveVisitors::expire(Millis now) {
  auto n = std::erase_if(visits_, [now](auto const& kv) { return kv.second.expires_at <= now; });
  if (n) ++generation_;
  return n;
}

Visit const* LiveVisitors::find(std::string const& visitor_id) const {
  auto it = visits_.find(visitor_id);
  return it == visits_.end() ? nullptr : &it->second;
}

VisitorView view(LiveVisitors const& live, VisitorFilter const& filter, std::size_t limit) {
  VisitorView out;
  for (auto const& [id, v] : live.all())
    if (matches(filter, v)) out.rows.push_back(&v);
  out.total = out.rows.size();
  auto newest_first = [](Visit const* a, Visit const* b) {
    return a->visit_started_at != b->visit_started_at ? a->visit_started_at > b->visit_started_at
                                                      : a->visitor_id < b->visitor_id;
  };
  auto keep = std::min(limit, out.rows.size());
  std::partial_sort(out.rows.begin(), out.rows.begin() + static_cast<std::ptrdiff_t>(keep), out.rows.end(),
                    newest_first);
  out.rows.resize(keep);
  return out;
}

VisitorDiff diff(VisitorView const& next, std::unordered_map<std::string, std::int64_t>& held, std::size_t& held_total) {
  VisitorDiff d;
  d.total = next.total;
  d.total_changed = held_total != next.total;
  std::unordered_map<std::string, std::int64_t> now_held;
  now_held.reserve(next.rows.size());
  for (auto const* v : next.rows) {
    auto it = held.find(v->visitor_id);
    if (it == held.end() || it->second != v->rev) d.changed.push_back(v);
    now_held.emplace(v->visitor_id, v->rev);
  }
  for (auto const& [id, rev] : held)
    if (!now_held.count(id)) d.gone.push_back(id);
  std::sort(d.gone.begin(), d.gone.end());
  held = std::move(now_held);
  held_total = next.total;
  return d;
}

// ------------------------------------------------------------ page floods

PageBudget::PageBudget(double per_min, double burst, int flood, Millis now) noexcept
    : bucket_(per_min / 60.0, burst, now), flood_(flood, 60'000) {}

PageBudget::Answer PageBudget::take(Millis now) noexcept {
  if (bucket_.take(now)) return Answer::accept;
  return flood_.reject(now) ? Answer::cut_off : Answer::refuse;
}

}  // namespace exceed::core
