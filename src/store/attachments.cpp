#include "store/attachments.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

namespace exceed::store {
namespace asio = boost::asio;
namespace {

Result<std::optional<Attachment>> attachment_of(Reply const& reply, std::string_view what) {
  auto fields = Fields::read(reply, what);
  if (!fields) return fields.failure();
  if (fields->empty()) return std::optional<Attachment>{};
  auto const& f = *fields;
  if (!f.has("id") || !f.has("sha256") || !f.maybe_integer("size"))
    return Failure::protocol(std::string(what) + ": not an attachment record");
  Attachment a;
  a.id = f.text("id");
  a.sha256 = f.text("sha256");
  a.name = f.text("name");
  a.content_type = f.text("type");
  a.size = f.integer("size");
  a.conversation_id = f.text("conversation_id");
  a.ticket_id = f.text("ticket_id");
  a.uploaded_by = f.text("uploaded_by");
  a.uploader_role = f.text("uploader_role");
  a.created_at = f.integer("created_at");
  a.scan = f.text("scan");
  return std::optional<Attachment>(std::move(a));
}

}  // namespace

asio::awaitable<Result<Attachment>> AttachmentStore::save(Attachment const& a) {
  auto const& k = db_.keys();
  std::vector<std::string> keys{k.attachment(a.id), a.ticket_id.empty() ? k.conversation_attachments(a.conversation_id)
                                                                        : k.ticket_attachments(a.ticket_id)};
  std::vector<std::string> args{a.id, std::to_string(a.created_at),
                                "id", a.id, "sha256", a.sha256, "name", a.name, "type", a.content_type,
                                "size", std::to_string(a.size), "conversation_id", a.conversation_id,
                                "ticket_id", a.ticket_id, "uploaded_by", a.uploaded_by,
                                "uploader_role", a.uploader_role, "created_at", std::to_string(a.created_at),
                                "scan", a.scan};
  auto r = co_await db_.run_keys(db_.scripts().attachment_save, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  auto saved = attachment_of(*r, "attachment_save");
  if (!saved) co_return saved.failure();
  if (!*saved) co_return Failure::protocol("attachment_save: no record in the reply");
  co_return std::move(**saved);
}

asio::awaitable<Result<std::optional<Attachment>>> AttachmentStore::get(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().attachment(id));
  if (!r) co_return r.failure();
  co_return attachment_of(*r, "attachment");
}

asio::awaitable<Result<std::vector<Attachment>>> AttachmentStore::listed(std::string key) {
  auto ids = co_await db_.cmd("ZRANGE", key, "0", "-1");
  if (!ids) co_return ids.failure();
  Row row(*ids, "attachments");
  std::vector<std::string> names;
  while (row.ok() && !row.at_end()) names.push_back(row.text());
  if (!row.ok()) co_return row.failure();
  std::vector<Attachment> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto a = co_await get(names[i]);
    if (!a) co_return a.failure();
    if (*a) out.push_back(std::move(**a));
  }
  co_return out;
}

asio::awaitable<Result<std::vector<Attachment>>> AttachmentStore::of_conversation(std::string const& id) {
  co_return co_await listed(db_.keys().conversation_attachments(id));
}

asio::awaitable<Result<std::vector<Attachment>>> AttachmentStore::of_ticket(std::string const& id) {
  co_return co_await listed(db_.keys().ticket_attachments(id));
}

}  // namespace exceed::store
