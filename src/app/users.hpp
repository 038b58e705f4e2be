// Agents and supervisors: created from the command line, stored in Redis.
#pragma once

#include "store/accounts.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace exceed::app {

struct NewUser {
  std::string username;
  std::string role;  // agent | supervisor
  std::string name;
  std::vector<std::string> teams;
  int capacity = 3;
  std::string password_hash;
};

// Creates the user (and, for an agent, their routing record and team
// memberships); the answer is their id. Refused with conflict when the
// username is taken.
boost::asio::awaitable<store::Result<std::string>> add_user(store::AccountStore& accounts, NewUser const& u,
                                                            core::Millis now);

// What an administrator does to an existing account. Every change but
// enable revokes the user's tokens (their token version moves on) and, over
// the bus, closes their open sessions in every process.
//   disable:  no login until enabled again
//   enable:   logins work again (older tokens stay revoked)
//   remove:   as disable, and the username is freed; the records stay for
//             the conversations and tickets that name this person
//   password: a new password hash (a stolen or shared password)
enum class AccountChange { disable, enable, remove, password };

// Refused with not_found when there is no such username.
boost::asio::awaitable<store::Result<store::Done>> change_account(store::AccountStore& accounts,
                                                                  std::string const& username, AccountChange change,
                                                                  std::string const& password_hash = {});

// One line per user, sorted: username, role, id, name, teams, capacity,
// status (active or disabled).
boost::asio::awaitable<store::Result<std::vector<std::vector<std::string>>>> list_users(store::AccountStore& accounts);

// Usernames: 1-64 of [A-Za-z0-9._@-]; team names: 1-64 of [A-Za-z0-9._-].
bool valid_username(std::string const& s);
bool valid_team(std::string const& s);

}  // namespace exceed::app
