// Who does something: a customer, an agent (with the teams whose chats they
// may see) or a supervisor. Every rule about access takes one.
#pragma once

#include "core/domain.hpp"

#include <string>

namespace exceed::core {

struct Actor {
  Role role = Role::customer;
  std::string user_id;
  std::string teams_csv;  // agents only: "support,sales"
  std::string role_name() const { return std::string(to_string(role)); }
};

}  // namespace exceed::core
