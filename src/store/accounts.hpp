// People who sign in, and the limits on asking to: staff accounts (agents
// and supervisors, with their login names), visitors (customers), and the
// counters behind the rate limits and the login waits. The rules (who may
// log in, how long to wait) are the app's and core's (core/throttle.hpp);
// these functions store and read.
#pragma once

#include "core/domain.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

// A staff account as stored. The role and the token version are kept as
// stored text: app/auth.hpp's staff_token_refusal judges them.
struct Account {
  std::string id, username, name;
  std::string role;  // agent | supervisor
  std::vector<std::string> teams;
  std::string teams_csv;  // as stored
  int capacity = 0;
  std::string password_hash;  // "" once deleted
  std::string token_version;  // "" = 0
  bool disabled = false;
  bool deleted = false;
};

struct NewAccount {
  std::string id, username, name;
  std::string role;  // agent | supervisor
  std::vector<std::string> teams;
  int capacity = 3;
  std::string password_hash;
  core::Millis now = 0;
};

struct Visitor {
  std::string id, name, email;
  std::string user_id;  // the shop's own id of a verified customer, or ""
  core::Millis now = 0;
  long long idle_ttl_s = 0;  // forgotten after this unless they start a chat or a ticket
};

// One more event on a counter: how many in its window, and how long the
// window has left.
struct Counted {
  std::int64_t count = 0;
  core::Millis left = 0;
};

class AccountStore {
 public:
  explicit AccountStore(Db& db) : db_(db) {}

  // ------------------------------------------------------------ staff
  // nullopt: no such account.
  boost::asio::awaitable<Result<std::optional<Account>>> account(std::string const& id);
  // The account a login name belongs to (none once it was deleted).
  boost::asio::awaitable<Result<std::optional<Account>>> by_username(std::string const& username);
  // Every account listed (deleted ones are not).
  boost::asio::awaitable<Result<std::vector<Account>>> accounts();
  // Claims the username and writes the account (an agent's routing record
  // and team memberships too); refused with conflict when the name is taken.
  boost::asio::awaitable<Result<Done>> create(NewAccount const& a);
  boost::asio::awaitable<Result<Done>> set_disabled(std::string const& id, bool disabled);
  boost::asio::awaitable<Result<Done>> set_password(std::string const& id, std::string const& hash);
  // Disabled for good, the password dropped, out of its teams and the list,
  // the username free again; the record stays for what names this person.
  boost::asio::awaitable<Result<Done>> remove(Account const& a);
  // Every token signed so far is refused from now on (the token version
  // moves on), and every server process is told to close the account's
  // sessions (a core::BusMessage revoke, which App::on_bus reads).
  boost::asio::awaitable<Result<Done>> revoke_tokens(std::string const& id);

  // ------------------------------------------------------------ visitors
  // The one visitor id of a verified customer: the one given before, else
  // `candidate`, from now on theirs.
  boost::asio::awaitable<Result<std::string>> visitor_of_user(std::string const& user_id, std::string const& candidate);
  boost::asio::awaitable<Result<Done>> save_visitor(Visitor const& v);

  // ------------------------------------------------------------ limits
  // Counts one `kind` event of `who` in a window that starts with its first
  // event (lua/count.lua).
  boost::asio::awaitable<Result<Counted>> count(std::string const& kind, std::string const& who, core::Millis window);
  // Counts one failed login of `subject` ("user:<name>", "addr:<ip>") in a
  // window that every failure starts anew.
  boost::asio::awaitable<Result<Counted>> count_login_failure(std::string const& subject, core::Millis window);
  // How long `subject` must still wait before its next login (0: none).
  boost::asio::awaitable<Result<core::Millis>> login_wait(std::string const& subject);
  boost::asio::awaitable<Result<Done>> set_login_wait(std::string const& subject, core::Millis wait);
  // Forgets the subject's failures and wait.
  boost::asio::awaitable<Result<Done>> clear_login(std::string const& subject);

 private:
  boost::asio::awaitable<Result<Counted>> counted(std::string key, core::Millis window, bool restart);

  Db& db_;
};

}  // namespace exceed::store
