// The sans-io parts of the cluster client: key slots, the slot map, the
// redirect decision and the per-slot order fence. No Redis, no socket.
#include "store/cluster.hpp"
#include "store/db.hpp"
#include "store/redirect.hpp"
#include "store/slot_map.hpp"
#include "store/slots.hpp"

#include <catch2/catch.hpp>

using namespace exceed::store;
using Kind = Reply::Kind;

namespace {

Reply integer(long long v) {
  Reply r;
  r.kind = Kind::integer;
  r.integer = v;
  return r;
}

Reply string(std::string s) {
  Reply r;
  r.kind = Kind::string;
  r.str = std::move(s);
  return r;
}

Reply error_reply(std::string s) {
  Reply r;
  r.kind = Kind::error;
  r.str = std::move(s);
  return r;
}

Reply array(std::vector<Reply> elements) {
  Reply r;
  r.kind = Kind::array;
  r.elements = std::move(elements);
  return r;
}

// [host, port, id, {}] as Redis 7 sends a node in CLUSTER SLOTS.
Reply node(Reply host, long long port, std::string id = "0123456789abcdef") {
  return array({std::move(host), integer(port), string(std::move(id)), array({})});
}

Reply range(long long first, long long last, std::vector<Reply> nodes) {
  std::vector<Reply> e{integer(first), integer(last)};
  for (auto& n : nodes) e.push_back(std::move(n));
  return array(std::move(e));
}

// The map `redis-cli --cluster create` makes of three primaries.
Reply three_primaries() {
  return array({range(0, 5460, {node(string("10.0.0.1"), 7000), node(string("10.0.0.4"), 7003)}),
                range(5461, 10922, {node(string("10.0.0.2"), 7001)}),
                range(10923, 16383, {node(string("10.0.0.3"), 7002), node(string("10.0.0.6"), 7005)})});
}

NodeAddress at(std::string host, std::uint16_t port) { return NodeAddress{std::move(host), port}; }

}  // namespace

TEST_CASE("crc16 is the XMODEM variant of the specification's appendix", "[cluster]") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(crc16("") == 0);
  CHECK(crc16(std::string("\0", 1)) == 0);
  CHECK(crc16("A") == 0x58E5);
}

TEST_CASE("A key's slot is CRC16 of its hash tag modulo 16384, as CLUSTER KEYSLOT answers", "[cluster]") {
  // Every expectation below is what redis-server 7.0 answered to CLUSTER KEYSLOT.
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("") == 0);
  CHECK(key_slot("bus") == 3155);

  SECTION("keys with the same tag share a slot") {
    CHECK(key_slot("{user1000}.following") == 3443);
    CHECK(key_slot("{user1000}.followers") == 3443);
    CHECK(key_slot("exceed:{42}:conv") == 8000);
    CHECK(key_slot("exceed:{42}:conv") == key_slot("42"));
  }
  SECTION("only the first tag counts, and an empty one hashes the whole key") {
    CHECK(hash_tag("foo{bar}{zap}") == "bar");
    CHECK(key_slot("foo{bar}{zap}") == 5061);
    CHECK(hash_tag("foo{}{bar}") == "foo{}{bar}");
    CHECK(key_slot("foo{}{bar}") == 8363);
    CHECK(hash_tag("foo{{bar}}zap") == "{bar");
    CHECK(key_slot("foo{{bar}}zap") == 4015);
    CHECK(hash_tag("no{close") == "no{close");
    CHECK(hash_tag("}{x}") == "x");
  }
}

TEST_CASE("A command is routed by its first key unless it names none", "[cluster]") {
  using RK = CommandRoute::Kind;
  auto route = [](Args a) { return route_of(a); };
  auto keyed_at = [&](Args a, std::size_t i) {
    auto r = route(std::move(a));
    return r.kind == RK::keyed && r.key_index == i;
  };
  CHECK(keyed_at({"GET", "k"}, 1));
  CHECK(keyed_at({"hset", "h", "f", "v"}, 1));
  CHECK(keyed_at({"SPUBLISH", "channel", "payload"}, 1));
  SECTION("scripts by the first of KEYS") {
    CHECK(keyed_at({"EVALSHA", "abc", "2", "k1", "k2", "arg"}, 3));
    CHECK(keyed_at({"evalsha", "abc", "1", "k1"}, 3));
    CHECK(keyed_at({"FCALL", "f", "1", "k1"}, 3));
    CHECK(route({"EVALSHA", "abc", "0", "arg"}).kind == RK::keyless);
    CHECK(route({"EVAL", "return 1", "0"}).kind == RK::keyless);
    CHECK(route({"EVAL", "return 1", "x", "k"}).kind == RK::keyless);  // Redis will refuse it
  }
  SECTION("streams after STREAMS, subcommands' keys after the subcommand") {
    CHECK(keyed_at({"XREAD", "COUNT", "2", "streams", "s1", "s2", "0", "0"}, 4));
    CHECK(keyed_at({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", ">"}, 5));
    CHECK(keyed_at({"OBJECT", "ENCODING", "k"}, 2));
    CHECK(keyed_at({"MEMORY", "USAGE", "k"}, 2));
    CHECK(keyed_at({"XGROUP", "CREATE", "s", "g", "$"}, 2));
    CHECK(keyed_at({"BITOP", "AND", "dest", "a", "b"}, 2));
  }
  SECTION("server commands go to any primary") {
    CHECK(route({"PING"}).kind == RK::keyless);
    CHECK(route({"SCRIPT", "LOAD", "return 1"}).kind == RK::keyless);
    CHECK(route({"CLUSTER", "SLOTS"}).kind == RK::keyless);
    CHECK(route({"INFO", "commandstats"}).kind == RK::keyless);
  }
  SECTION("commands that would change a shared link are refused") {
    for (char const* verb : {"SUBSCRIBE", "ssubscribe", "MONITOR", "MULTI", "EXEC", "WATCH", "SELECT", "ASKING",
                             "READONLY"})
      CHECK(route({verb, "x"}).kind == RK::refused);
    CHECK(route({}).kind == RK::refused);
  }
}

TEST_CASE("CLUSTER SLOTS is read into a slot map", "[cluster]") {
  std::string why;
  auto map = SlotMap::from_cluster_slots(three_primaries(), "10.0.0.9", &why);
  REQUIRE(map);
  CHECK(map->complete());
  REQUIRE(map->owner(0));
  CHECK(*map->owner(0) == at("10.0.0.1", 7000));
  CHECK(*map->owner(5460) == at("10.0.0.1", 7000));
  CHECK(*map->owner(5461) == at("10.0.0.2", 7001));
  CHECK(*map->owner(16383) == at("10.0.0.3", 7002));
  CHECK(map->primaries() == std::vector<NodeAddress>{at("10.0.0.1", 7000), at("10.0.0.2", 7001), at("10.0.0.3", 7002)});
  CHECK(map->replicas() == std::vector<NodeAddress>{at("10.0.0.4", 7003), at("10.0.0.6", 7005)});

  SECTION("a MOVED reassigns one slot; a primary left without slots is no longer listed") {
    map->assign(5461, at("10.0.0.3", 7002));
    CHECK(*map->owner(5461) == at("10.0.0.3", 7002));
    CHECK(*map->owner(5462) == at("10.0.0.2", 7001));
    CHECK(map->complete());
    for (std::uint16_t s = 5462; s <= 10922; ++s) map->assign(s, at("10.0.0.7", 7006));
    CHECK_FALSE(map->owns_any(at("10.0.0.2", 7001)));
    CHECK(map->owns_any(at("10.0.0.7", 7006)));
    CHECK(map->primaries() == std::vector<NodeAddress>{at("10.0.0.1", 7000), at("10.0.0.3", 7002), at("10.0.0.7", 7006)});
  }
  SECTION("uncovered slots have no owner") {
    auto partial = SlotMap::from_cluster_slots(array({range(0, 99, {node(string("h"), 1)})}), "x");
    REQUIRE(partial);
    CHECK_FALSE(partial->complete());
    CHECK_FALSE(partial->empty());
    CHECK(partial->owner(100) == nullptr);
    auto none = SlotMap::from_cluster_slots(array({}), "x");
    REQUIRE(none);
    CHECK(none->empty());
  }
  SECTION("a NULL or empty host is the host that answered; '?' leaves the range unowned") {
    Reply nil;
    auto m = SlotMap::from_cluster_slots(
        array({range(0, 10, {node(nil, 7000)}), range(11, 20, {node(string(""), 7001)}),
               range(21, 30, {node(string("?"), 7002)})}),
        "192.168.1.5");
    REQUIRE(m);
    CHECK(*m->owner(0) == at("192.168.1.5", 7000));
    CHECK(*m->owner(11) == at("192.168.1.5", 7001));
    CHECK(m->owner(21) == nullptr);
  }
  SECTION("an older Redis sends nodes without id or metadata") {
    auto m = SlotMap::from_cluster_slots(array({range(0, 16383, {array({string("::1"), integer(7000)})})}), "x");
    REQUIRE(m);
    CHECK(m->complete());
    CHECK(m->owner(42)->describe() == "[::1]:7000");
  }
}

TEST_CASE("A reply that is not a slot map is refused with a reason", "[cluster]") {
  std::vector<Reply> bad = {
      error_reply("ERR This instance has cluster support disabled"),
      string("nope"),
      array({integer(1)}),
      array({range(0, 16384, {node(string("h"), 1)})}),
      array({range(10, 5, {node(string("h"), 1)})}),
      array({array({integer(0), integer(1)})}),
      array({range(0, 1, {string("h:1")})}),
      array({range(0, 1, {array({string("h"), string("7000")})})}),
      array({range(0, 1, {array({string("h"), integer(70000)})})}),
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    INFO("case " << i);
    std::string why;
    CHECK_FALSE(SlotMap::from_cluster_slots(bad[i], "x", &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("MOVED and ASK errors are parsed into a slot and a node", "[cluster]") {
  auto r = parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.1");
  REQUIRE(r);
  CHECK(r->kind == Redirect::Kind::moved);
  CHECK(r->slot == 3999);
  CHECK(r->node == at("127.0.0.1", 6381));

  r = parse_redirect("ASK 16383 redis-2.internal:7001", "x");
  REQUIRE(r);
  CHECK(r->kind == Redirect::Kind::ask);
  CHECK(r->slot == 16383);
  CHECK(r->node == at("redis-2.internal", 7001));

  SECTION("an empty host is the one that answered; IPv6 hosts keep their colons") {
    r = parse_redirect("MOVED 1 :6390", "10.0.0.7");
    REQUIRE(r);
    CHECK(r->node == at("10.0.0.7", 6390));
    r = parse_redirect("MOVED 2 fe80::1:7000", "x");
    REQUIRE(r);
    CHECK(r->node == at("fe80::1", 7000));
    r = parse_redirect("ASK 2 [::1]:7000", "x");
    REQUIRE(r);
    CHECK(r->node == at("::1", 7000));
  }
  SECTION("anything else is no redirection") {
    for (char const* e : {"ERR unknown command", "MOVED", "MOVED 1", "MOVED x h:1", "MOVED 16384 h:1", "MOVED 1 h",
                          "MOVED 1 h:0", "MOVED 1 h:x", "ASKING", "moved 1 h:1", "MOVEDX 1 h:1"}) {
      INFO(e);
      CHECK_FALSE(parse_redirect(e, "x"));
    }
  }
}

TEST_CASE("The redirect decision: MOVED and ASK followed, transient errors retried, all bounded", "[cluster]") {
  RedirectPolicy policy;
  policy.max_redirects = 2;
  policy.max_retries = 3;
  policy.retry_delay = std::chrono::milliseconds(10);
  Redirects cmd;
  using A = Step::Action;

  SECTION("a reply, an ordinary error or a timeout is delivered as it is") {
    CHECK(cmd.next(policy, {}, string("v"), "h").action == A::deliver);
    CHECK(cmd.next(policy, {}, error_reply("WRONGTYPE Operation against a key"), "h").action == A::deliver);
    auto s = cmd.next(policy, make_error_code(error::timeout), {}, "h");
    CHECK(s.action == A::deliver);
    CHECK_FALSE(s.refresh);
  }
  SECTION("a lost link is delivered (the command may have run) and the map read again") {
    auto s = cmd.next(policy, make_error_code(error::disconnected), {}, "h");
    CHECK(s.action == A::deliver);
    CHECK(s.refresh);
  }
  SECTION("MOVED: to the named node, the map corrected and read again") {
    auto s = cmd.next(policy, {}, error_reply("MOVED 7 10.0.0.2:7001"), "10.0.0.1");
    CHECK(s.action == A::moved);
    CHECK(s.slot == 7);
    CHECK(s.node == at("10.0.0.2", 7001));
    CHECK(s.refresh);
  }
  SECTION("ASK: to the named node once, the map untouched") {
    auto s = cmd.next(policy, {}, error_reply("ASK 7 10.0.0.2:7001"), "10.0.0.1");
    CHECK(s.action == A::ask);
    CHECK(s.node == at("10.0.0.2", 7001));
    CHECK_FALSE(s.refresh);
  }
  SECTION("ASK for a script that may not follow it is delivered; MOVED is still followed") {
    policy.scripts_follow_ask = false;
    CHECK(cmd.next(policy, {}, error_reply("ASK 7 10.0.0.2:7001"), "10.0.0.1", true).action == A::deliver);
    CHECK(cmd.next(policy, {}, error_reply("ASK 7 10.0.0.2:7001"), "10.0.0.1", false).action == A::ask);
    CHECK(cmd.next(policy, {}, error_reply("MOVED 7 10.0.0.2:7001"), "10.0.0.1", true).action == A::moved);
  }
  SECTION("scripts follow ASK by default") {
    CHECK(cmd.next(policy, {}, error_reply("ASK 7 10.0.0.2:7001"), "10.0.0.1", true).action == A::ask);
  }
  SECTION("redirections are bounded: past the limit the error reaches the caller") {
    CHECK(cmd.next(policy, {}, error_reply("MOVED 7 a:1"), "h").action == A::moved);
    CHECK(cmd.next(policy, {}, error_reply("ASK 7 b:1"), "h").action == A::ask);
    auto s = cmd.next(policy, {}, error_reply("MOVED 7 a:1"), "h");
    CHECK(s.action == A::deliver);
    CHECK(cmd.redirects() == 2);
  }
  SECTION("TRYAGAIN, CLUSTERDOWN and LOADING wait, doubling, then give up") {
    auto s = cmd.next(policy, {}, error_reply("TRYAGAIN Multiple keys request during rehashing of slot"), "h");
    CHECK(s.action == A::retry);
    CHECK(s.delay == std::chrono::milliseconds(10));
    CHECK_FALSE(s.refresh);
    s = cmd.next(policy, {}, error_reply("CLUSTERDOWN The cluster is down"), "h");
    CHECK(s.action == A::retry);
    CHECK(s.delay == std::chrono::milliseconds(20));
    CHECK(s.refresh);
    s = cmd.next(policy, {}, error_reply("LOADING Redis is loading the dataset in memory"), "h");
    CHECK(s.action == A::retry);
    CHECK(s.delay == std::chrono::milliseconds(40));
    s = cmd.next(policy, {}, error_reply("CLUSTERDOWN The cluster is down"), "h");
    CHECK(s.action == A::deliver);
    CHECK(cmd.retries() == 3);
  }
}

TEST_CASE("A cluster's not-now answers reach a caller of the store as unavailable, other errors as before", "[cluster]") {
  for (char const* text : {"ASK 7 10.0.0.2:7001", "MOVED 7 10.0.0.2:7001", "TRYAGAIN Multiple keys request during rehashing of slot",
                           "CLUSTERDOWN The cluster is down", "LOADING Redis is loading the dataset in memory"}) {
    auto r = to_result({}, error_reply(text));
    INFO(text);
    REQUIRE_FALSE(r);
    CHECK(r.failure().kind == Failure::Kind::unavailable);
  }
  auto refused = to_result({}, error_reply("ERR forbidden not your conversation"));
  REQUIRE_FALSE(refused);
  CHECK(refused.failure().kind == Failure::Kind::refused);
  auto odd = to_result({}, error_reply("WRONGTYPE Operation against a key"));
  REQUIRE_FALSE(odd);
  CHECK(odd.failure().kind == Failure::Kind::protocol);
}

TEST_CASE("The slot fence holds a slot's new commands until those sent before its owner changed are back",
          "[cluster]") {
  SlotFence fence;
  std::uint16_t const slot = 42, other = 43;
  CHECK_FALSE(fence.closed(slot));

  SECTION("no command out: an owner change closes nothing") {
    fence.owner_changed(slot);
    CHECK_FALSE(fence.closed(slot));
  }
  SECTION("commands out at the change keep the fence closed until each is answered") {
    auto a = fence.sent(slot);
    auto b = fence.sent(slot);
    auto c = fence.sent(other);
    fence.owner_changed(slot);
    CHECK(fence.closed(slot));
    CHECK_FALSE(fence.closed(other));
    auto late = fence.sent(slot);  // a MOVED command sent on: it is not stale
    CHECK_FALSE(fence.answered(other, c));
    CHECK_FALSE(fence.answered(slot, a));
    CHECK(fence.closed(slot));
    CHECK(fence.answered(slot, b));  // the last stale one opens it
    CHECK_FALSE(fence.closed(slot));
    CHECK_FALSE(fence.answered(slot, late));
    CHECK(fence.out(slot) == 0);
  }
  SECTION("a second change while stale commands are out counts everything out then") {
    auto a = fence.sent(slot);
    fence.owner_changed(slot);
    auto b = fence.sent(slot);
    fence.owner_changed(slot);
    CHECK(fence.closed(slot));
    CHECK_FALSE(fence.answered(slot, b));
    CHECK(fence.answered(slot, a));
    CHECK_FALSE(fence.closed(slot));
  }
}

TEST_CASE("Cluster seeds are host:port items or redis:// URLs, whose credentials serve every node", "[cluster]") {
  std::string why;
  auto seeds = parse_cluster_seeds({"10.0.0.1:7000", "redis://app:s3cret@10.0.0.2:7001", "cache", "[::1]:7002"}, &why);
  REQUIRE(seeds);
  REQUIRE(seeds->size() == 4);
  CHECK((*seeds)[0].host == "10.0.0.1");
  CHECK((*seeds)[0].port == 7000);
  CHECK((*seeds)[2].host == "cache");
  CHECK((*seeds)[2].port == 6379);
  CHECK((*seeds)[3].host == "::1");
  for (auto const& s : *seeds) {
    CHECK(s.username == "app");
    CHECK(s.password == "s3cret");
  }

  SECTION("a database, a unix socket, an empty list or a malformed item is refused with a reason") {
    std::vector<std::vector<std::string>> bad = {
        {}, {"h:7000/1"}, {"redis://h:7000/2"}, {"unix:///run/redis.sock"}, {"h:0"}, {"h:"}, {"ftp://h"}};
    for (auto const& items : bad) {
      INFO(items.size());
      why.clear();
      CHECK_FALSE(parse_cluster_seeds(items, &why));
      CHECK_FALSE(why.empty());
    }
  }
}
