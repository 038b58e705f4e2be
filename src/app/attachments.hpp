// Files attached to chats and tickets. An upload is checked before anything
// is kept: its size, its name (a name, not a path), its type as sniffed
// from the bytes (programs refused whatever they are called, only the
// configured types kept), the sender's access to the conversation or
// ticket, and, with attachments.clamd set, ClamAV's verdict. Then the bytes
// go to the BlobStorage under their SHA-256 and the record to the store.
// Downloads follow the access rules of the conversation or ticket; images
// are shown inline, anything else is a download.
#pragma once

#include "app/blob_storage.hpp"
#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "store/attachments.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>

namespace exceed::app {

class Attachments {
 public:
  struct Deps {
    store::AttachmentStore& store;
    BlobStorage& blobs;
    Visibility& visibility;
    core::Clock const& clock;
    Config::Attachments const& config;
  };
  explicit Attachments(Deps deps) : d_(deps) {}

  // POST /api/v1/attachments?conversation_id=|ticket_id=&name= with the
  // file as the body; GET /api/v1/attachments/{id} (the record) and
  // /{id}/content (the bytes). `rest` is what follows /api/v1/attachments.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query,
                                                 std::string body);

  // The attachment a message of `actor` in `conversation_id` names: it must
  // have been uploaded to that conversation by the same person.
  boost::asio::awaitable<store::Result<store::Attachment>> for_message(Actor const& actor, std::string id,
                                                                       std::string conversation_id);

  // The same for a reply on a ticket: uploaded to that ticket by `actor`.
  boost::asio::awaitable<store::Result<store::Attachment>> for_ticket(Actor const& actor, std::string id,
                                                                      std::string ticket_id);

  static boost::json::object to_json(store::Attachment const& a);

 private:
  boost::asio::awaitable<net::HttpResponse> upload(Actor const& actor, Query const& query, std::string body);
  boost::asio::awaitable<store::Result<store::Attachment>> visible(Actor const& actor, std::string id);

  Deps d_;
};

// Content-Disposition for a download named `name`: an ASCII fallback and
// the UTF-8 name (RFC 6266), `inline` or `attachment`.
std::string content_disposition(bool inline_, std::string_view name);

}  // namespace exceed::app
