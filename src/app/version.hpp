// The version this build reports (the CLI, the log, GET /metrics).
#pragma once

#include <string_view>

namespace exceed::app {

inline constexpr std::string_view exceed_version = "0.1.0";

}  // namespace exceed::app
