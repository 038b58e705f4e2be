#include "app/users.hpp"

#include "app/auth.hpp"

#include <algorithm>

namespace exceed::app {
namespace {

bool valid_name(std::string const& s, std::string_view extra) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [extra](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

// `exceed user list`'s line of an account.
std::vector<std::string> line_of(store::Account const& a) {
  return {a.username, a.role, a.id, a.name, a.teams_csv, std::to_string(a.capacity), a.disabled ? "disabled" : "active"};
}

}  // namespace

bool valid_username(std::string const& s) { return valid_name(s, "._@-"); }
bool valid_team(std::string const& s) { return valid_name(s, "._-"); }

boost::asio::awaitable<store::Result<std::string>> add_user(store::AccountStore& accounts, NewUser const& u,
                                                            core::Millis now) {
  store::NewAccount a;
  a.id = random_id(u.role == "agent" ? "a_" : "s_");
  a.username = u.username;
  a.name = u.name;
  a.role = u.role;
  a.teams = u.teams;
  a.capacity = u.capacity;
  a.password_hash = u.password_hash;
  a.now = now;
  auto created = co_await accounts.create(a);
  if (!created) co_return created.failure();
  co_return a.id;
}

boost::asio::awaitable<store::Result<store::Done>> change_account(store::AccountStore& accounts,
                                                                  std::string const& username, AccountChange change,
                                                                  std::string const& password_hash) {
  auto account = co_await accounts.by_username(username);
  if (!account) co_return account.failure();
  if (!*account)
    co_return store::Failure::refused(core::Refusal::not_found, "no user named '" + username + "'");
  auto const& a = **account;
  store::Result<store::Done> changed;
  switch (change) {
    case AccountChange::enable: co_return co_await accounts.set_disabled(a.id, false);
    case AccountChange::disable: changed = co_await accounts.set_disabled(a.id, true); break;
    case AccountChange::password: changed = co_await accounts.set_password(a.id, password_hash); break;
    case AccountChange::remove: changed = co_await accounts.remove(a); break;
  }
  if (!changed) co_return changed;
  // The servers close the user's sessions (App::on_bus).
  co_return co_await accounts.revoke_tokens(a.id);
}

boost::asio::awaitable<store::Result<std::vector<std::vector<std::string>>>> list_users(store::AccountStore& accounts) {
  auto all = co_await accounts.accounts();
  if (!all) co_return all.failure();
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < all->size(); ++i) rows.push_back(line_of((*all)[i]));
  std::sort(rows.begin(), rows.end());
  co_return rows;
}

}  // namespace exceed::app
