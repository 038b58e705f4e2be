// Attachments' records in Redis: what a file is (its sniffed type, size,
// SHA-256: the key of its bytes in the blob storage), who sent it, and the
// conversation or ticket it belongs to (whose access rules it follows).
// The bytes themselves live in app::BlobStorage.
#pragma once

#include "core/domain.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

struct Attachment {
  std::string id;
  std::string sha256;  // hex, of the content
  std::string name;
  std::string content_type;  // sniffed
  std::int64_t size = 0;
  std::string conversation_id;  // one of these two
  std::string ticket_id;
  std::string uploaded_by;
  std::string uploader_role;
  core::Millis created_at = 0;
  std::string scan;  // clean (clamd found nothing) | not_scanned
};

class AttachmentStore {
 public:
  explicit AttachmentStore(Db& db) : db_(db) {}

  // Refused: conflict when the id is taken.
  boost::asio::awaitable<Result<Attachment>> save(Attachment const& a);
  // nullopt when there is no such attachment.
  boost::asio::awaitable<Result<std::optional<Attachment>>> get(std::string const& id);
  // A conversation's or a ticket's, oldest first.
  boost::asio::awaitable<Result<std::vector<Attachment>>> of_conversation(std::string const& id);
  boost::asio::awaitable<Result<std::vector<Attachment>>> of_ticket(std::string const& id);

 private:
  boost::asio::awaitable<Result<std::vector<Attachment>>> listed(std::string key);
  Db& db_;
};

}  // namespace exceed::store
