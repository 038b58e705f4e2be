// The bus between processes: its messages, the join of a starting process,
// and when a lone process stops publishing. No Redis, no clock: `now` is given.
#include "core/bus.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

TEST_CASE("bus messages round-trip, events with their targets, control words with their payload") {
  BusMessage ev{BusMessage::Kind::event, "p_1", {"u:v_1", "team:support", "sup"}, R"({"type":"message"})"};
  auto back = decode_bus(encode(ev));
  REQUIRE(back);
  REQUIRE(back->kind == BusMessage::Kind::event);
  REQUIRE(back->from == "p_1");
  REQUIRE(back->targets == ev.targets);
  REQUIRE(back->payload == ev.payload);
  REQUIRE(encode(ev) == "p_1\nu:v_1,team:support,sup\n{\"type\":\"message\"}");
  for (auto kind : {BusMessage::Kind::positions, BusMessage::Kind::join, BusMessage::Kind::here,
                    BusMessage::Kind::revoke}) {
    BusMessage m{kind, "cli", {}, "a_ann"};
    auto d = decode_bus(encode(m));
    REQUIRE(d);
    REQUIRE(d->kind == kind);
    REQUIRE(d->payload == "a_ann");
    REQUIRE(d->targets.empty());
  }
  SECTION("a payload may hold new lines") {
    BusMessage m{BusMessage::Kind::event, "p_1", {"sup"}, "a\nb"};
    REQUIRE(decode_bus(encode(m))->payload == "a\nb");
  }
  SECTION("what is not a bus message is ignored") {
    for (std::string bad : {"", "no newline", "p_1\nonly one", "\n@join\n", "p_1\n@unknown\nx"}) {
      INFO(bad);
      REQUIRE_FALSE(decode_bus(bad));
    }
  }
}

TEST_CASE("a starting process is joined once every other process answered, or alone at once") {
  SECTION("alone") {
    BusJoin j;
    REQUIRE(j.begin(0));
    REQUIRE(j.joined());
  }
  SECTION("two others") {
    BusJoin j;
    REQUIRE_FALSE(j.begin(2));
    REQUIRE_FALSE(j.here("p_a", "p_me", "p_me"));
    REQUIRE_FALSE(j.here("p_a", "p_me", "p_me"));      // the same one twice counts once
    REQUIRE_FALSE(j.here("p_b", "p_other", "p_me"));   // an answer to another joiner
    REQUIRE(j.here("p_b", "p_me", "p_me"));
    REQUIRE(j.joined());
    REQUIRE(j.heard() == 2);
  }
  SECTION("the deadline") {
    BusJoin j;
    j.begin(3);
    j.here("p_a", "p_me", "p_me");
    j.give_up();
    REQUIRE(j.joined());
    REQUIRE(j.heard() == 1);
  }
}

TEST_CASE("a process stops publishing only when alone and unheard for a while, and starts again when heard") {
  BusPublishing p;
  REQUIRE(p.publishing());
  REQUIRE_FALSE(p.observe(2, 1'000, 15'000));  // others live: keeps publishing
  REQUIRE(p.observe(1, 2'000, 15'000));        // alone, nobody heard: stops
  REQUIRE_FALSE(p.publishing());
  p.heard_peer(3'000);
  REQUIRE(p.publishing());
  REQUIRE_FALSE(p.observe(1, 10'000, 15'000));  // heard 7 s ago: keeps publishing
  REQUIRE(p.observe(1, 18'001, 15'000));        // quiet for longer than 15 s: stops
}
