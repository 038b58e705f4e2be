// The attachment store against a real Redis: a record is written with its
// conversation's or ticket's index, read back, and listed in upload order.
// scripts: attachment_save.lua
#include "live_store.hpp"
#include "store/attachments.hpp"

#include <catch2/catch.hpp>

using namespace exceed;

namespace {
store::Attachment file(std::string id, core::Millis at, std::string conversation = "c1", std::string ticket = "") {
  store::Attachment a;
  a.id = std::move(id);
  a.sha256 = std::string(64, 'a');
  a.name = "screenshot.png";
  a.content_type = "image/png";
  a.size = 1234;
  a.conversation_id = std::move(conversation);
  a.ticket_id = std::move(ticket);
  a.uploaded_by = "v_casey";
  a.uploader_role = "customer";
  a.created_at = at;
  a.scan = "clean";
  return a;
}
}  // namespace

TEST_CASE("an attachment is kept with its conversation or ticket and read back") {
  test::LiveStore s;
  store::AttachmentStore st(s.db());
  auto saved = s.wait(st.save(file("att_2", 2000)));
  REQUIRE(saved);
  CHECK(saved->name == "screenshot.png");
  CHECK(saved->size == 1234);
  CHECK(saved->scan == "clean");
  REQUIRE(s.wait(st.save(file("att_1", 1000))));
  REQUIRE(s.wait(st.save(file("att_t", 1500, "", "t1"))));
  CHECK(s.wait(st.save(file("att_1", 3000))).failure().refusal == core::Refusal::conflict);
  auto got = s.wait(st.get("att_t"));
  REQUIRE(*got);
  CHECK((*got)->ticket_id == "t1");
  CHECK_FALSE(*s.wait(st.get("att_none")));
  auto listed = s.wait(st.of_conversation("c1"));
  REQUIRE(listed->size() == 2);
  CHECK(listed->at(0).id == "att_1");
  CHECK(listed->at(1).id == "att_2");
  CHECK(s.wait(st.of_ticket("t1"))->size() == 1);
  CHECK(s.wait(st.of_conversation("c_other"))->empty());
}
