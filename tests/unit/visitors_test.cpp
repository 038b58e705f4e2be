// Visitors before they write: what is kept of a page, when a visit may be
// invited and by which rule, the stage of a chat started from a visit, and
// the live list as the consoles get it (filtered, cut, sent as changes).
#include "core/visitors.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

namespace {

constexpr Millis t0 = 1'800'000'000'000;

Visit browsing(std::string id = "v_1") {
  Visit v;
  v.visitor_id = std::move(id);
  v.visit_id = "vs_1";
  v.page_url = "https://shop.example/checkout/payment";
  v.page_started_at = t0;
  v.visit_started_at = t0 - 120'000;
  v.last_seen = t0;
  v.pages_seen = 3;
  v.connections = 1;
  v.rev = 1;
  return v;
}

InvitationRule checkout_rule() {
  InvitationRule r;
  r.name = "checkout";
  r.page = "/checkout*";
  r.time_on_page = 20'000;
  r.text = "Need a hand with your order?";
  return r;
}

}  // namespace

TEST_CASE("only the scheme, host and path of an http(s) page are kept") {
  REQUIRE(clean_page_url("https://Shop.Example/checkout?email=dana@example.com#pay") == "https://shop.example/checkout");
  REQUIRE(clean_page_url("HTTP://shop.example") == "http://shop.example/");
  SECTION("credentials in the address are dropped") {
    REQUIRE(clean_page_url("https://user:secret@shop.example/a") == "https://shop.example/a");
  }
  SECTION("anything else is refused") {
    REQUIRE_FALSE(clean_page_url("javascript:alert(1)"));
    REQUIRE_FALSE(clean_page_url("file:///etc/passwd"));
    REQUIRE_FALSE(clean_page_url("/relative/path"));
    REQUIRE_FALSE(clean_page_url("https://"));
    REQUIRE_FALSE(clean_page_url("https://shop.example/a b"));
    REQUIRE_FALSE(clean_page_url(std::string("https://shop.example/\n")));
  }
  REQUIRE(url_path("https://shop.example/checkout/pay") == "/checkout/pay");
  REQUIRE(url_path("https://shop.example") == "/");
}

TEST_CASE("page patterns: * for any run, ? for one character") {
  REQUIRE(glob_match("/checkout*", "/checkout"));
  REQUIRE(glob_match("/checkout*", "/checkout/payment"));
  REQUIRE_FALSE(glob_match("/checkout*", "/cart/checkout"));
  REQUIRE(glob_match("*/checkout*", "/cart/checkout"));
  REQUIRE(glob_match("/p/??", "/p/12"));
  REQUIRE_FALSE(glob_match("/p/??", "/p/123"));
  REQUIRE(glob_match("*", ""));
  REQUIRE_FALSE(glob_match("", "/"));
}

TEST_CASE("a visit goes on while the visitor is active, and leaves the list when quiet or gone") {
  auto v = browsing();
  PresenceTimes times{1'800'000, 20'000, 60'000};
  REQUIRE(visit_continues(v, t0 + 29 * 60'000, 30 * 60'000));
  REQUIRE_FALSE(visit_continues(v, t0 + 30 * 60'000, 30 * 60'000));
  SECTION("a tab open: a minute at a time (its process keeps it on), at most `quiet` after the last page") {
    REQUIRE(visit_expiry(v, times, t0) == t0 + 60'000);
    REQUIRE(visit_expiry(v, times, t0 + 1'790'000) == t0 + 1'800'000);
  }
  SECTION("the last tab closed: the next page has `linger` to open its socket") {
    v = on_tab_closed(v, times, t0 + 5'000);
    REQUIRE(v.connections == 0);
    REQUIRE(v.left_at == t0 + 5'000);
    REQUIRE(v.expires_at == t0 + 25'000);
  }
}

TEST_CASE("pages make a visit: counted, the way in kept, a new visit after the visitor was away") {
  PresenceTimes times{1'800'000, 20'000, 60'000};
  PageView p;
  p.visitor_id = "v_1";
  p.name = "Dana";
  p.url = "https://shop.example/products/rucksack";
  p.referrer = "https://search.example/";
  p.new_tab = true;
  p.new_visit_id = "vs_1";
  auto first = on_page(std::nullopt, p, times, t0);
  REQUIRE(first.visit_id == "vs_1");
  REQUIRE(first.pages_seen == 1);
  REQUIRE(first.connections == 1);
  REQUIRE_FALSE(first.returning);
  REQUIRE(first.referrer == "https://search.example/");

  p.url = "https://shop.example/checkout";
  p.referrer = "https://shop.example/products/rucksack";
  p.new_tab = false;
  p.in_checkout = true;
  p.new_visit_id = "vs_2";
  auto second = on_page(first, p, times, t0 + 30'000);
  REQUIRE(second.visit_id == "vs_1");
  REQUIRE(second.pages_seen == 2);
  REQUIRE(second.page_started_at == t0 + 30'000);
  REQUIRE(second.visit_started_at == t0);
  REQUIRE(second.referrer == "https://search.example/");
  REQUIRE(second.in_checkout);
  REQUIRE(second.connections == 1);

  SECTION("back after the quiet time: a new, returning visit, its invitations forgotten") {
    second.dismissed = true;
    second.invitations = 1;
    auto later = on_page(second, p, times, t0 + 30'000 + 1'800'000);
    REQUIRE(later.visit_id == "vs_2");
    REQUIRE(later.pages_seen == 1);
    REQUIRE(later.returning);
    REQUIRE_FALSE(later.dismissed);
    REQUIRE(later.invitations == 0);
  }
  SECTION("the shop's facts: a cart, then the order") {
    auto carted = on_cart(second, Cart{2, 129.5, "EUR"}, times, t0 + 40'000);
    REQUIRE(carted.cart->value == 129.5);
    REQUIRE_FALSE(on_cart(carted, Cart{0, 0, "EUR"}, times, t0 + 41'000).cart);
    auto bought = on_purchase(carted, times, t0 + 50'000);
    REQUIRE(bought.purchased);
    REQUIRE_FALSE(bought.cart);
  }
  REQUIRE(in_checkout("https://shop.example/checkout/pay", {"/checkout*"}));
  REQUIRE_FALSE(in_checkout("https://shop.example/products", {"/checkout*"}));
}

TEST_CASE("an invitation is answered once: dismissed for the visit, or accepted and turned into a chat") {
  auto v = on_invited(browsing(), Invitation{"i_1", "checkout", "Need a hand?", "sales", "", ""}, t0);
  REQUIRE(v.invitation_state == "shown");
  REQUIRE(v.invitations == 1);
  REQUIRE(v.invited_at == t0);
  REQUIRE_FALSE(on_answer(v, "i_other", true));
  auto dismissed = on_answer(v, "i_1", false);
  REQUIRE(dismissed->dismissed);
  REQUIRE_FALSE(on_answer(*dismissed, "i_1", true));  // answered already
  auto accepted = on_answer(v, "i_1", true);
  REQUIRE(accepted->invitation_state == "accepted");
  REQUIRE_FALSE(accepted->dismissed);
  auto chat = on_chat(*accepted, "c_1", true);
  REQUIRE(chat.invitation_state == "chat");
  REQUIRE(chat.conversation_id == "c_1");
}

TEST_CASE("a chat from a visit is before the purchase until the shop reports one") {
  auto v = browsing();
  v.cart = Cart{2, 129.0, "EUR"};
  REQUIRE(stage_of(v) == "pre_purchase");
  v.purchased = true;
  REQUIRE(stage_of(v) == "post_purchase");
}

TEST_CASE("a rule invites after its time on its page, with its cart and pages conditions") {
  auto rule = checkout_rule();
  auto v = browsing();
  REQUIRE_FALSE(rule_matches(rule, v, t0 + 19'999));
  REQUIRE(rule_matches(rule, v, t0 + 20'000));
  SECTION("another page does not match") {
    v.page_url = "https://shop.example/products/rucksack";
    REQUIRE_FALSE(rule_matches(rule, v, t0 + 60'000));
  }
  SECTION("a cart condition needs a cart worth enough") {
    rule.cart_value = 100;
    REQUIRE_FALSE(rule_matches(rule, v, t0 + 60'000));
    v.cart = Cart{1, 99.5, "EUR"};
    REQUIRE_FALSE(rule_matches(rule, v, t0 + 60'000));
    v.cart = Cart{1, 129, "EUR"};
    REQUIRE(rule_matches(rule, v, t0 + 60'000));
  }
  SECTION("pages seen and returning customers") {
    rule.pages_seen = 4;
    REQUIRE_FALSE(rule_matches(rule, v, t0 + 60'000));
    rule.pages_seen = 3;
    rule.returning = InvitationRule::Returning::yes;
    REQUIRE_FALSE(rule_matches(rule, v, t0 + 60'000));
    v.returning = true;
    REQUIRE(rule_matches(rule, v, t0 + 60'000));
    rule.returning = InvitationRule::Returning::no;
    REQUIRE_FALSE(rule_matches(rule, v, t0 + 60'000));
  }
}

TEST_CASE("a visitor is invited at most as often as the limits allow, and never again after a dismissal") {
  InvitationLimits limits{2, 60'000};
  auto v = browsing();
  REQUIRE(may_invite(v, limits, t0) == InviteBlock::none);
  SECTION("one on screen now") {
    v.invitation_state = "shown";
    REQUIRE(may_invite(v, limits, t0) == InviteBlock::pending);
  }
  SECTION("dismissed: never again in this visit, however long ago") {
    v.invitation_state = "dismissed";
    v.dismissed = true;
    v.invitations = 1;
    v.invited_at = t0 - 3'600'000;
    REQUIRE(may_invite(v, limits, t0) == InviteBlock::dismissed);
  }
  SECTION("the gap between two, then the number per visit") {
    v.invitations = 1;
    v.invited_at = t0 - 59'999;
    v.invitation_state = "";  // no longer on screen
    REQUIRE(may_invite(v, limits, t0) == InviteBlock::too_soon);
    REQUIRE(may_invite(v, limits, t0 + 1) == InviteBlock::none);
    v.invitations = 2;
    REQUIRE(may_invite(v, limits, t0 + 120'000) == InviteBlock::per_visit);
  }
  SECTION("nobody to invite: no page reported, no tab open, a chat already started") {
    auto quiet = v;
    quiet.page_url.clear();
    REQUIRE(may_invite(quiet, limits, t0) == InviteBlock::tracking);
    auto gone = v;
    gone.connections = 0;
    REQUIRE(may_invite(gone, limits, t0) == InviteBlock::gone);
    auto chatting = v;
    chatting.conversation_id = "c_1";
    REQUIRE(may_invite(chatting, limits, t0) == InviteBlock::chatting);
  }
}

TEST_CASE("the live list: filtered by page, checkout and cart, newest visit first, cut to a size") {
  LiveVisitors live;
  for (int i = 0; i < 5; ++i) {
    auto v = browsing("v_" + std::to_string(i));
    v.visit_started_at = t0 + i * 1000;
    v.page_url = i % 2 ? "https://shop.example/checkout" : "https://shop.example/products/boots";
    v.in_checkout = i % 2 == 1;
    if (i >= 3) v.cart = Cart{1, 50.0 * i, "EUR"};
    live.put(v);
  }
  auto all = view(live, {}, 10);
  REQUIRE(all.total == 5);
  REQUIRE(all.rows.front()->visitor_id == "v_4");
  REQUIRE(all.rows.back()->visitor_id == "v_0");
  REQUIRE(view(live, {}, 2).rows.size() == 2);
  REQUIRE(view(live, {}, 2).total == 5);

  VisitorFilter checkout;
  checkout.in_checkout = true;
  REQUIRE(view(live, checkout, 10).total == 2);
  VisitorFilter page;
  page.page = "BOOTS";
  REQUIRE(view(live, page, 10).total == 3);
  VisitorFilter cart;
  cart.cart_min = 180;
  auto big = view(live, cart, 10);
  REQUIRE(big.total == 1);
  REQUIRE(big.rows[0]->visitor_id == "v_4");
}

TEST_CASE("a console is sent only what changed since it last looked") {
  LiveVisitors live;
  live.put(browsing("v_1"));
  live.put(browsing("v_2"));
  std::unordered_map<std::string, std::int64_t> held;
  std::size_t held_total = 0;
  auto first = diff(view(live, {}, 10), held, held_total);
  REQUIRE(first.changed.size() == 2);
  REQUIRE(first.total_changed);
  REQUIRE(diff(view(live, {}, 10), held, held_total).empty());

  auto moved = browsing("v_1");
  moved.page_url = "https://shop.example/cart";
  moved.rev = 2;
  auto before = live.generation();
  live.put(moved);
  REQUIRE(live.generation() > before);
  SECTION("an older revision is ignored") {
    auto stale = browsing("v_1");
    stale.rev = 1;
    live.put(stale);
    REQUIRE(live.find("v_1")->page_url == "https://shop.example/cart");
  }
  live.remove("v_2");
  auto next = diff(view(live, {}, 10), held, held_total);
  REQUIRE(next.changed.size() == 1);
  REQUIRE(next.changed[0]->page_url == "https://shop.example/cart");
  REQUIRE(next.gone == std::vector<std::string>{"v_2"});
  REQUIRE(next.total == 1);
}

TEST_CASE("expired visits leave the list") {
  LiveVisitors live;
  auto v = browsing();
  v.expires_at = t0 + 1000;
  live.put(v);
  REQUIRE(live.expire(t0 + 999) == 0);
  REQUIRE(live.expire(t0 + 1000) == 1);
  REQUIRE(live.size() == 0);
}

TEST_CASE("a visitor flooding page events is refused, then cut off") {
  PageBudget budget(30, 5, 10, t0);
  for (int i = 0; i < 5; ++i) REQUIRE(budget.take(t0) == PageBudget::Answer::accept);
  for (int i = 0; i < 9; ++i) REQUIRE(budget.take(t0) == PageBudget::Answer::refuse);
  REQUIRE(budget.take(t0) == PageBudget::Answer::cut_off);
  SECTION("at its own pace a visitor is never refused") {
    PageBudget calm(30, 5, 10, t0);
    for (int i = 0; i < 100; ++i) REQUIRE(calm.take(t0 + i * 2'000) == PageBudget::Answer::accept);
  }
}
