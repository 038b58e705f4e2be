// Visitors browsing the shop before (or after) they write: the facts a page
// reports, when a visit may be invited to chat and by which rule, the stage
// a chat started from a visit carries, and the live list the agents watch,
// filtered, ordered, cut to a size and sent as differences. Pure: pages,
// rules and `now` in; decisions out. The store keeps the visits; the app
// reads them, asks these rules, and sends what they say.
#pragma once

#include "core/domain.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace exceed::core {

// ------------------------------------------------------------------ pages

// What may be kept of a page address: scheme, host and path of an http(s)
// URL, without the query and the fragment (they carry search terms, e-mail
// addresses and tokens more often than anything an agent needs). nullopt
// for anything that is not an absolute http(s) URL.
std::optional<std::string> clean_page_url(std::string_view url);

// The path of a URL kept by clean_page_url ("/" when it has none).
std::string_view url_path(std::string_view url);

// `*` matches any run of characters, `?` one; anything else itself. Used on
// page paths ("/checkout*").
bool glob_match(std::string_view pattern, std::string_view text);

// ------------------------------------------------------------------ visits

struct Cart {
  std::int64_t items = 0;
  double value = 0;
  std::string currency;  // ISO 4217, three capitals
};

// One visit as the store keeps it: the page the visitor is on, what they
// saw, what the shop told us, and the invitation state of the visit.
struct Visit {
  std::string visitor_id;
  std::string name;
  bool identified = false;  // the shop vouched for who they are (HMAC identity)
  std::string visit_id;
  std::string page_url;
  std::string page_title;
  std::string referrer;
  Millis visit_started_at = 0;
  Millis page_started_at = 0;
  Millis last_seen = 0;
  std::int64_t pages_seen = 0;
  std::optional<Cart> cart;
  bool purchased = false;   // the shop reported an order in this visit
  bool returning = false;   // seen in an earlier visit
  bool in_checkout = false; // the page is one of visitors.checkout_paths
  int connections = 0;      // tabs with a live socket
  Millis left_at = 0;       // the last tab closed at (0: one is open)
  // The invitation of the visit: its id and rule, and shown | dismissed |
  // accepted | chat (a chat was started from it); "" when none was made.
  std::string invitation_id;
  std::string invitation_rule;
  std::string invitation_state;
  std::string invitation_text;
  std::string invitation_team;       // who answers a chat started from it
  std::string invitation_from_id;    // the agent who invited by hand ("" a rule)
  std::string invitation_from_name;
  std::int64_t invitations = 0;  // made in this visit
  Millis invited_at = 0;         // the last one
  bool dismissed = false;        // the visitor dismissed one in this visit
  std::string conversation_id;   // the chat started in this visit
  Millis expires_at = 0;         // dropped from the live list then
  std::int64_t rev = 0;          // grows with every change (the lists compare it)
};

// How long a visit stays on the live list.
struct PresenceTimes {
  Millis quiet = 1'800'000;  // no page for this long: off the list, and the next page starts a new visit
  Millis linger = 20'000;    // after the last tab closed (the next page of the shop reconnects within it)
  Millis ttl = 60'000;       // a tab's process must confirm it is open within this
};

// A visit ends when the visitor was away for `quiet`: their next page
// starts a new one (pages seen, invitations and a dismissal start afresh).
bool visit_continues(Visit const& v, Millis now, Millis quiet) noexcept;

// When a visit leaves the live list: with a tab open, `quiet` after its
// last page but no later than `ttl` from now (the tab's process keeps
// moving this on while the socket lives); with none, `linger` after the
// last tab closed.
Millis visit_expiry(Visit const& v, PresenceTimes const& t, Millis now) noexcept;

// Is the page one of the shop's checkout pages (path patterns)?
bool in_checkout(std::string_view url, std::vector<std::string> const& patterns);

// A page the widget reported.
struct PageView {
  std::string visitor_id;
  std::string name;
  bool identified = false;
  std::string url;  // cleaned (clean_page_url)
  std::string title;
  std::string referrer;
  bool new_tab = false;       // the first page of this socket: one more tab
  bool in_checkout = false;
  std::string new_visit_id;   // the id if a new visit starts
};

// The visit after a page: the stored one goes on with one more page, or
// (none stored, or the visitor was away for `quiet`) a new one starts with
// the page's referrer as the way in. A visitor with an earlier visit is
// returning.
Visit on_page(std::optional<Visit> const& stored, PageView const& p, PresenceTimes const& t, Millis now);
// The shop's facts: the cart now (an empty one is no cart), an order placed.
Visit on_cart(Visit v, Cart const& cart, PresenceTimes const& t, Millis now);
Visit on_purchase(Visit v, PresenceTimes const& t, Millis now);
// A tab's socket closed.
Visit on_tab_closed(Visit v, PresenceTimes const& t, Millis now);

// The stage a chat started from this visit carries unless the page named
// one: after a purchase reported in the visit, post_purchase; before,
// pre_purchase (browsing, a cart, the checkout not yet paid).
std::string_view stage_of(Visit const& v) noexcept;

// ------------------------------------------------------------ invitations

struct InvitationRule {
  std::string name;
  std::string page;             // glob on the page path; "" any page
  Millis time_on_page = 0;      // at least this long on the page
  std::int64_t pages_seen = 0;  // at least this many pages in the visit
  double cart_value = 0;        // a cart worth at least this (0: no cart needed)
  enum class Returning : std::uint8_t { any, yes, no } returning = Returning::any;
  std::string team;             // who answers; "" the default team
  bool team_online = true;      // only while someone of the team is online
  bool business_hours = true;   // only within the team's hours
  std::string text;             // what the invitation says
};

// How often one visitor may be invited.
struct InvitationLimits {
  std::int64_t per_visit = 2;  // invitations shown in one visit
  Millis min_gap = 60'000;     // between two invitations to one visitor
};

enum class InviteBlock : std::uint8_t {
  none,        // may be invited
  tracking,    // no page reported: nothing is known to invite on
  gone,        // no tab open
  dismissed,   // dismissed one in this visit: never again in it
  chatting,    // a chat was started in this visit
  pending,     // one is on screen now
  per_visit,   // invited as often as a visit allows
  too_soon,    // invited less than min_gap ago
};
std::string_view to_string(InviteBlock b) noexcept;

// May this visit be invited now (by a rule or by an agent)?
InviteBlock may_invite(Visit const& v, InvitationLimits const& limits, Millis now) noexcept;

struct Invitation {
  std::string id;
  std::string rule;  // a rule's name, or "manual"
  std::string text;
  std::string team;
  std::string from_id;    // the agent who invited by hand
  std::string from_name;
};
Visit on_invited(Visit v, Invitation const& inv, Millis now);
// The visitor's answer to invitation `id`: nullopt when it is not the one
// on screen (answered already, or another).
std::optional<Visit> on_answer(Visit v, std::string_view id, bool accepted);
// A chat started in the visit, from its invitation or not.
Visit on_chat(Visit v, std::string conversation_id, bool from_invitation);

// Does the visit meet the rule's own conditions (page, time on it, pages
// seen, cart, returning)? The team's conditions are the caller's: it knows
// who is online and the hours.
bool rule_matches(InvitationRule const& rule, Visit const& v, Millis now);

// ---------------------------------------------------------- the live list

struct VisitorFilter {
  std::string page;                 // the page path contains this ("" any)
  std::optional<bool> in_checkout;  // only those in (or out of) checkout
  std::optional<double> cart_min;   // a cart worth at least this
};
bool matches(VisitorFilter const& f, Visit const& v);

// Every live visit of the deployment, kept from the store's stream of
// changes. `generation` grows with every change, so a caller recomputes
// its views only when something moved.
class LiveVisitors {
 public:
  // A newer revision of a visit (older ones are ignored).
  void put(Visit v);
  void remove(std::string const& visitor_id);
  // Drops the visits expired at `now`; returns how many.
  std::size_t expire(Millis now);
  Visit const* find(std::string const& visitor_id) const;
  std::unordered_map<std::string, Visit> const& all() const noexcept { return visits_; }
  std::size_t size() const noexcept { return visits_.size(); }
  std::uint64_t generation() const noexcept { return generation_; }

 private:
  std::unordered_map<std::string, Visit> visits_;
  std::uint64_t generation_ = 0;
};

// What one console is shown: the visits matching its filter, newest visit
// first, at most `limit`, and how many matched in all.
struct VisitorView {
  std::vector<Visit const*> rows;
  std::size_t total = 0;
};
VisitorView view(LiveVisitors const& live, VisitorFilter const& filter, std::size_t limit);

// What a console must be sent to hold `next`: the rows it lacks or holds
// at an older revision, and the ids it holds that left the view. `held`
// (visitor id -> revision it holds) becomes `next`.
struct VisitorDiff {
  std::vector<Visit const*> changed;
  std::vector<std::string> gone;
  std::size_t total = 0;
  bool total_changed = false;
  bool empty() const noexcept { return changed.empty() && gone.empty() && !total_changed; }
};
VisitorDiff diff(VisitorView const& next, std::unordered_map<std::string, std::int64_t>& held, std::size_t& held_total);

// ------------------------------------------------------------ page floods

// The page events one visitor may send: `per_min` a minute with a burst of
// `burst`; past `flood` refusals within a minute the sender is cut off.
class PageBudget {
 public:
  PageBudget(double per_min, double burst, int flood, Millis now) noexcept;
  enum class Answer : std::uint8_t { accept, refuse, cut_off };
  Answer take(Millis now) noexcept;

 private:
  TokenBucket bucket_;
  FloodGuard flood_;
};

}  // namespace exceed::core
