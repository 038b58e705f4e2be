// Visitors before they write, through the real server: the live list an
// agent watches, an invitation made by a rule and its answer, the chat it
// starts, and every hostile input the widget's frames can carry, each
// refused with nothing stored for it.
#include "harness.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

// A config file with one invitation rule: 1 s on a checkout page.
std::string rules_file() {
  static std::string const path = [] {
    std::string p = "/tmp/exceed-visitors-test-" + std::to_string(::getpid()) + ".toml";
    std::ofstream out(p);
    out << "[invitations.rules.checkout]\n"
           "page = \"/checkout*\"\n"
           "time_on_page_s = 1\n"
           "text = \"Need a hand with your order?\"\n";
    return p;
  }();
  return path;
}

Env visitor_env(Env extra = {}) {
  Env env{{"EXCEED_CONFIG", rules_file()}, {"EXCEED_VISITORS_LINGER_S", "1"}, {"EXCEED_INVITATIONS_MIN_GAP_S", "1"}};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

Frame page(std::string const& url, std::string const& title = "") {
  auto f = frame({{"type", "visitor.page"}, {"url", url}});
  if (!title.empty()) f["title"] = title;
  return f;
}

Frame cart(std::int64_t items, double value, std::string const& currency = "EUR") {
  Frame data;
  data["items"] = items;
  data["value"] = value;
  data["currency"] = currency;
  auto f = frame({{"type", "visitor.track"}, {"event", "cart"}});
  f["data"] = std::move(data);
  return f;
}

// The rows an agent holds of the live list, kept from visitors.update frames.
struct LiveList {
  std::map<std::string, Frame> rows;
  std::int64_t total = 0;
  void apply(Frame const& u) {
    if (u.at("full").as_bool()) rows.clear();
    for (auto const& v : u.at("visitors").as_array()) rows[str(v.as_object(), "visitor_id")] = v.as_object();
    for (auto const& g : u.at("gone").as_array()) rows.erase(std::string(g.as_string()));
    total = u.at("total").as_int64();
  }
  // Reads updates until `pred` holds for the list.
  void until(Person& agent, std::function<bool(LiveList const&)> const& pred, std::string const& what) {
    auto deadline = std::chrono::steady_clock::now() + 8s;
    while (!pred(*this)) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      apply(agent->expect([](Frame const& f) { return is_type(f, "visitors.update"); }, 8s, what));
    }
  }
};

// Every key a visit leaves (the visitor's own record from POST /api/v1/visitors aside).
std::string visit_keys(Deployment& d) {
  return redis_cli(d.redis.port(), "--scan --pattern 'exceed:visit:*'") +
         redis_cli(d.redis.port(), "--scan --pattern 'exceed:visits:*'");
}

}  // namespace

TEST_CASE("a visitor browsing appears in an agent's live list with page and cart, and leaves it with the tab") {
  Deployment d(visitor_env());
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  REQUIRE(ok(ann->request(frame({{"type", "visitors.subscribe"}}))));
  LiveList list;
  list.apply(ann->expect_type("visitors.update"));
  REQUIRE(list.rows.empty());

  auto dana = customer(d.port(), "Dana");
  auto ack = dana->request(page("https://shop.example/products/rucksack?utm=x#top", "Waxed rucksack"));
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
  REQUIRE(ack.at("pages_seen").as_int64() == 1);
  REQUIRE(ack.at("invitation").is_null());
  REQUIRE(ok(dana->request(cart(1, 129.0))));
  list.until(ann, [&](LiveList const& l) { return l.rows.count(dana.id) && !l.rows.at(dana.id).at("cart").is_null(); },
             "Dana with her cart");
  auto const& row = list.rows.at(dana.id);
  REQUIRE(str(row, "name") == "Dana");
  REQUIRE(str(row, "page_url") == "https://shop.example/products/rucksack");  // no query, no fragment
  REQUIRE(str(row, "page_title") == "Waxed rucksack");
  REQUIRE(row.at("cart").at("value").as_double() == 129.0);
  REQUIRE(row.at("connected").as_bool());
  REQUIRE_FALSE(row.at("in_checkout").as_bool());
  REQUIRE(list.total == 1);

  SECTION("a filter shows only those in checkout") {
    REQUIRE(ok(ann->request(frame({{"type", "visitors.subscribe"}, {"filter", {{"in_checkout", true}}}}))));
    LiveList checkout;
    checkout.apply(ann->expect_type("visitors.update"));
    REQUIRE(checkout.total == 0);
    REQUIRE(ok(dana->request(page("https://shop.example/checkout"))));
    checkout.until(ann, [&](LiveList const& l) { return l.rows.count(dana.id) == 1; }, "Dana in checkout");
    REQUIRE(checkout.rows.at(dana.id).at("pages_seen").as_int64() == 2);
  }
  SECTION("the tab closes: not connected, then off the list") {
    dana->close();
    list.until(ann, [&](LiveList const& l) { return !l.rows.count(dana.id); }, "Dana gone");
    REQUIRE(list.total == 0);
  }
}

TEST_CASE("a rule invites after its time on checkout, and a dismissed invitation does not come back in the visit") {
  Deployment d(visitor_env());
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto dana = customer(d.port(), "Dana");
  REQUIRE(ok(dana->request(page("https://shop.example/products/boots"))));
  REQUIRE(dana->none([](Frame const& f) { return is_type(f, "invitation"); }, 2500ms));  // not a checkout page
  REQUIRE(ok(dana->request(page("https://shop.example/checkout"))));
  auto inv = dana->expect_type("invitation", 5s);
  REQUIRE(str(inv, "rule") == "checkout");
  REQUIRE(str(inv, "text") == "Need a hand with your order?");
  REQUIRE(str(inv.at("from").as_object(), "role") == "team");
  auto id = str(inv, "invitation_id");

  // The next page (a new socket, as a shop without a single-page app
  // has) shows the same invitation again until it is answered.
  dana.reconnect();
  auto again = dana->request(page("https://shop.example/checkout/payment"));
  REQUIRE(str(again.at("invitation").as_object(), "invitation_id") == id);

  REQUIRE(ok(dana->request(frame({{"type", "invitation.dismiss"}, {"invitation_id", id}}))));
  dana->expect([&](Frame const& f) { return is_type(f, "invitation.closed") && str(f, "reason") == "dismissed"; });
  REQUIRE(code_of(dana->request(frame({{"type", "invitation.dismiss"}, {"invitation_id", id}}))) == "conflict");
  dana.reconnect();
  REQUIRE(dana->request(page("https://shop.example/checkout")).at("invitation").is_null());
  REQUIRE(dana->none([](Frame const& f) { return is_type(f, "invitation"); }, 3s));
  auto manual = ann->request(frame({{"type", "visitor.invite"}, {"visitor_id", dana.id}}));
  REQUIRE(code_of(manual) == "conflict");

  auto boss_token = login(d.port(), "ann", "password123");
  auto report = http(d.port(), "GET", "/api/v1/reports/invitations", "", {{"Authorization", "Bearer " + boss_token}});
  REQUIRE(report.status == 200);
  auto totals = report.json().at("totals").as_object();
  REQUIRE(totals.at("shown").as_int64() == 1);
  REQUIRE(totals.at("dismissed").as_int64() == 1);
}

TEST_CASE("an accepted invitation starts a pre-purchase chat that carries its rule and cart to the agent") {
  Deployment d(visitor_env({{"EXCEED_METRICS_PUBLIC", "true"}}));
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto dana = customer(d.port(), "Dana");
  REQUIRE(ok(dana->request(page("https://shop.example/checkout"))));
  REQUIRE(ok(dana->request(cart(2, 250.5))));
  auto id = str(dana->expect_type("invitation", 5s), "invitation_id");
  auto accepted = dana->request(frame({{"type", "invitation.accept"}, {"invitation_id", id}}));
  REQUIRE(str(accepted, "state") == "accepted");
  auto start = dana->request(
      frame({{"type", "conversation.start"}, {"text", "Does the rucksack fit a laptop?"}, {"invitation_id", id}}));
  REQUIRE(ok(start));
  auto conv = str(start, "conversation_id");
  auto offer = offer_for(ann, conv);
  auto const& ctx = offer.at("context").as_object();
  REQUIRE(str(ctx, "stage") == "pre_purchase");
  REQUIRE(str(ctx, "page_url") == "https://shop.example/checkout");
  REQUIRE(str(ctx.at("invitation").as_object(), "rule") == "checkout");
  REQUIRE(ctx.at("cart").at("value").as_double() == 250.5);
  REQUIRE(redis_cli(d.redis.port(), "HGET exceed:conv:" + conv + " stage") == "pre_purchase");
  REQUIRE(code_of(ann->request(frame({{"type", "visitor.invite"}, {"visitor_id", dana.id}}))) == "conflict");

  auto metrics = http(d.port(), "GET", "/metrics");
  for (char const* line : {"exceed_invitations_total{event=\"shown\"} 1", "exceed_invitations_total{event=\"accepted\"} 1",
                           "exceed_invitations_total{event=\"chat\"} 1"}) {
    INFO(line);
    REQUIRE(metrics.body.find(line) != std::string::npos);
  }

  // The reports split by stage: this chat is before the purchase, one
  // started from no visit has none.
  auto eve = customer(d.port(), "Eve");
  REQUIRE(ok(eve->request(frame({{"type", "conversation.start"}, {"text", "Where is my parcel?"}}))));
  d.user("sue", "supervisor");
  std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + login(d.port(), "sue", "password123")}};
  auto started = [&](std::string const& stage) {
    auto r = http(d.port(), "GET", "/api/v1/reports/summary?stage=" + stage, "", auth);
    INFO(r.body);
    REQUIRE(r.status == 200);
    REQUIRE(str(r.json().as_object(), "stage") == stage);
    return r.json().at("totals").at("started").as_int64();
  };
  REQUIRE(started("pre_purchase") == 1);
  REQUIRE(started("none") == 1);
  REQUIRE(started("post_purchase") == 0);
  REQUIRE(http(d.port(), "GET", "/api/v1/reports/summary?stage=browsing", "", auth).status == 400);
  auto by_stage = http(d.port(), "GET", "/api/v1/reports/summary?group_by=stage", "", auth);
  REQUIRE(by_stage.status == 200);
  REQUIRE(str(by_stage.json().as_object(), "group_by") == "stage");
  std::map<std::string, std::int64_t> per_stage;
  auto const grouped = by_stage.json();
  for (auto const& g : grouped.at("groups").as_array())
    per_stage[std::string(g.at("key").as_string())] = g.at("started").as_int64();
  REQUIRE(per_stage == std::map<std::string, std::int64_t>{{"none", 1}, {"pre_purchase", 1}});
  auto consistency = http(d.port(), "GET", "/api/v1/reports/consistency?stage=pre_purchase", "", auth);
  REQUIRE(consistency.status == 200);
  REQUIRE(str(consistency.json().as_object(), "stage") == "pre_purchase");
}

TEST_CASE("an agent invites one visitor by hand, not twice in a row") {
  Deployment d(visitor_env({{"EXCEED_INVITATIONS_MIN_GAP_S", "60"}}));
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto dana = customer(d.port(), "Dana");
  REQUIRE(ok(dana->request(page("https://shop.example/products/boots"))));
  auto invited = ann->request(frame({{"type", "visitor.invite"}, {"visitor_id", dana.id}, {"text", "Hi Dana!"}}));
  INFO(json::serialize(invited));
  REQUIRE(ok(invited));
  auto inv = dana->expect_type("invitation");
  REQUIRE(str(inv, "text") == "Hi Dana!");
  REQUIRE(str(inv.at("from").as_object(), "name") == "ann");
  REQUIRE(code_of(ann->request(frame({{"type", "visitor.invite"}, {"visitor_id", dana.id}}))) == "conflict");
  REQUIRE(ok(dana->request(frame({{"type", "invitation.accept"}, {"invitation_id", str(inv, "invitation_id")}}))));
  REQUIRE(code_of(ann->request(frame({{"type", "visitor.invite"}, {"visitor_id", "v_nobody"}}))) == "not_found");
  REQUIRE(code_of(dana->request(frame({{"type", "visitor.invite"}, {"visitor_id", dana.id}}))) == "forbidden");
}

TEST_CASE("hostile widget input is refused and nothing is stored for it") {
  Deployment d(visitor_env({{"EXCEED_AUTH_IDENTITY_SECRET", "shop-identity-secret-0123456789"},
                            {"EXCEED_VISITORS_PAGE_EVENTS_PER_MIN", "1"}}));

  SECTION("a forged identity gets no visitor at all") {
    auto r = http(d.port(), "POST", "/api/v1/visitors",
                  R"({"name":"Mallory","user_id":"u_42","user_hash":"00000000000000000000000000000000"})",
                  {{"Content-Type", "application/json"}});
    REQUIRE(r.status == 401);
    REQUIRE(redis_cli(d.redis.port(), "--scan --pattern 'exceed:visitor*'").empty());
  }
  SECTION("malformed and oversize pages and facts") {
    auto mallory = customer(d.port(), "Mallory");
    std::string big(1100, 'x');
    Frame oversize_data;
    oversize_data["items"] = 1;
    oversize_data["value"] = 1;
    oversize_data["currency"] = "EUR";
    oversize_data["note"] = big;
    auto oversize = frame({{"type", "visitor.track"}, {"event", "cart"}});
    oversize["data"] = oversize_data;
    std::vector<std::pair<Frame, std::string>> cases{
        {page("javascript:alert(1)"), "bad_request"},
        {page("/relative"), "bad_request"},
        {page("https://shop.example/" + std::string(2100, 'a')), "too_large"},
        {page("https://shop.example/", std::string(301, 't')), "too_large"},
        {frame({{"type", "visitor.page"}, {"url", 42}}), "bad_request"},
        {oversize, "too_large"},
        {cart(-1, 10), "bad_request"},
        {cart(1, -5), "bad_request"},
        {cart(1, 1e12), "bad_request"},
        {cart(1, 10, "eur"), "bad_request"},
        {cart(1, 10, "EURO"), "bad_request"},
        {frame({{"type", "visitor.track"}, {"event", "cart"}, {"data", "x"}}), "bad_request"},
        {frame({{"type", "visitor.track"}, {"event", "login"}}), "bad_request"},
        {frame({{"type", "visitors.subscribe"}}), "forbidden"},
    };
    for (auto const& [f, code] : cases) {
      INFO(json::serialize(f));
      REQUIRE(code_of(mallory->request(f)) == code);
    }
    REQUIRE(code_of(mallory->request(cart(1, 10))) == "conflict");  // facts before any page: nothing to add them to
    REQUIRE(visit_keys(d).empty());
    REQUIRE(mallory->is_open());
  }
  SECTION("a visitor flooding page events is refused, then cut off, and only the admitted pages count") {
    auto mallory = customer(d.port(), "Mallory");
    int admitted = 0, refused = 0;
    // Within the connection's own frame budget (10 a second), so only the
    // page budget answers: 10 pages at once, then one every 120 ms.
    for (int i = 0; i < 60 && mallory->is_open(); ++i) {
      try {
        mallory->send(frame({{"type", "visitor.page"}, {"id", i}, {"url", "https://shop.example/p/" + std::to_string(i)}}));
      } catch (std::exception const&) {
        break;  // the server cut it off between is_open() and this write
      }
      if (i >= 20) std::this_thread::sleep_for(120ms);  // pacing the sender, not waiting for an event
      while (auto f = mallory->next(1ms)) {
        if (ok(*f)) ++admitted;
        else if (code_of(*f) == "rate_limited") ++refused;
      }
    }
    REQUIRE(mallory->wait_closed(5s) == std::optional<std::uint16_t>(4429));
    for (auto const& f : mallory->backlog()) {
      if (ok(f)) ++admitted;
      else if (code_of(f) == "rate_limited") ++refused;
    }
    REQUIRE(admitted == 10);  // the burst
    REQUIRE(refused >= 1);
    REQUIRE(redis_cli(d.redis.port(), "HGET exceed:visit:" + mallory.id + " pages_seen") == "10");
  }
}

TEST_CASE("with tracking switched off the widget's pages are refused and no list is kept") {
  Deployment d(visitor_env({{"EXCEED_VISITORS_ENABLED", "false"}}));
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto dana = customer(d.port(), "Dana");
  REQUIRE(code_of(dana->request(page("https://shop.example/"))) == "forbidden");
  REQUIRE(code_of(ann->request(frame({{"type", "visitors.subscribe"}}))) == "forbidden");
  REQUIRE(visit_keys(d).empty());
  // A chat still starts as it always did.
  REQUIRE(!start_chat(dana).empty());
}

TEST_CASE("saved replies: a team's and an agent's own, searched, and filled from the conversation") {
  Deployment d(visitor_env());
  d.user("ann");
  d.user("bob", "agent", "sales");
  d.user("boss", "supervisor", "");
  auto ann_token = login(d.port(), "ann", "password123");
  auto bob_token = login(d.port(), "bob", "password123");
  auto boss_token = login(d.port(), "boss", "password123");
  auto api = [&](std::string const& token, std::string const& method, std::string const& path, std::string body = "") {
    return http(d.port(), method, path, body, {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  };
  auto shared = api(boss_token, "POST", "/api/v1/replies",
                    R"({"scope":"team","team":"support","shortcut":"refund","title":"Refund on its way",)"
                    R"("text":"Hi {{customer.name}}, I am {{agent.name}}: your {{cart.value}} {{cart.currency}} refund is on its way."})");
  INFO(shared.body);
  REQUIRE(shared.status == 201);
  auto id = std::string(shared.json().at("id").as_string());
  REQUIRE(api(ann_token, "POST", "/api/v1/replies", R"({"scope":"team","team":"support","shortcut":"x","text":"y"})").status == 403);
  REQUIRE(api(ann_token, "POST", "/api/v1/replies", R"({"scope":"personal","shortcut":"thanks","text":"Thanks, {{customer.name}}!"})").status == 201);
  REQUIRE(api(ann_token, "POST", "/api/v1/replies", R"({"scope":"personal","shortcut":"thanks","text":"again"})").status == 409);
  REQUIRE(api(ann_token, "POST", "/api/v1/replies", R"({"scope":"personal","shortcut":"Bad Name","text":"y"})").status == 400);
  REQUIRE(api(ann_token, "POST", "/api/v1/replies", R"({"scope":"personal","shortcut":"pw","text":"{{customer.password}}"})").status == 400);
  REQUIRE(api(ann_token, "PATCH", "/api/v1/replies/" + id, R"({"text":"mine now"})").status == 403);

  auto ann_list = api(ann_token, "GET", "/api/v1/replies?q=re");
  REQUIRE(ann_list.status == 200);
  REQUIRE(ann_list.json().at("items").as_array().size() == 1);
  REQUIRE(ann_list.json().at("items").at(0).at("shortcut") == "refund");
  REQUIRE(api(ann_token, "GET", "/api/v1/replies").json().at("items").as_array().size() == 2);
  REQUIRE(api(bob_token, "GET", "/api/v1/replies").json().at("items").as_array().empty());  // another team, not his own
  REQUIRE(api(bob_token, "GET", "/api/v1/replies/" + id).status == 404);

  // Filled from a chat Ann has, whose visit gave a cart.
  auto ann = agent(d.port(), "ann");
  auto dana = customer(d.port(), "Dana");
  REQUIRE(ok(dana->request(page("https://shop.example/products/boots"))));
  REQUIRE(ok(dana->request(cart(1, 89.9))));
  auto conv = start_chat(dana, "Can I return these?");
  accept(ann, conv);
  auto used = api(ann_token, "POST", "/api/v1/replies/" + id + "/use", R"({"conversation_id":")" + conv + R"("})");
  INFO(used.body);
  REQUIRE(used.status == 200);
  REQUIRE(used.json().at("text") == "Hi Dana, I am ann: your 89.90 EUR refund is on its way.");
  REQUIRE(used.json().at("missing").as_array().empty());
  REQUIRE(used.json().at("reply").at("uses").as_int64() == 1);
  REQUIRE(api(bob_token, "POST", "/api/v1/replies/" + id + "/use", R"({"conversation_id":")" + conv + R"("})").status == 404);
  REQUIRE(api(boss_token, "DELETE", "/api/v1/replies/" + id).status == 200);
  REQUIRE(api(ann_token, "GET", "/api/v1/replies/" + id).status == 404);
}
