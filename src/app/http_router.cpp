#include "app/http_router.hpp"

namespace exceed::app {

namespace {

// How well a pattern fits a path: 0 not at all, a prefix's length + 1, or
// above any prefix for an exact pattern. `rest` gets what a prefix leaves.
std::size_t fit(std::string_view pattern, std::string_view path, std::string& rest) {
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    auto base = pattern.substr(0, pattern.size() - 2);
    if (path.substr(0, base.size()) != base) return 0;
    auto after = path.substr(base.size());
    if (!after.empty() && after.front() != '/') return 0;  // "/api/v1/ticketsX" is not under "/api/v1/tickets"
    rest = std::string(after);
    return base.size() + 1;
  }
  if (pattern != path) return 0;
  rest.clear();
  return std::string_view::npos;
}

}  // namespace

void Router::add(Route r) { routes_.push_back(std::move(r)); }

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match best;
  std::size_t best_fit = 0;
  std::string rest;
  // The best-fitting pattern decides; its routes are then told apart by method.
  for (auto const& r : routes_) {
    auto f = fit(r.pattern, path, rest);
    if (f > best_fit) best_fit = f;
  }
  if (best_fit == 0) return best;
  for (auto const& r : routes_) {
    if (fit(r.pattern, path, rest) != best_fit) continue;
    if (!best.pattern) best.pattern = &r;
    if (r.method.empty() || r.method == method) {
      best.pattern = &r;
      best.route = &r;
      best.rest = rest;
      best.allowed.clear();
      return best;
    }
    if (!best.allowed.empty()) best.allowed += ", ";
    best.allowed += r.method;
  }
  return best;
}

}  // namespace exceed::app
