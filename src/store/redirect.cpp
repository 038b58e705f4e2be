#include "store/redirect.hpp"

#include <algorithm>
#include <charconv>

namespace exceed::store {
namespace {

template <class Int>
bool to_number(std::string_view s, Int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

// The first word of an error reply ("TRYAGAIN Multiple keys request...").
std::string_view code_of(std::string_view error) { return error.substr(0, error.find(' ')); }

}  // namespace

std::optional<Redirect> parse_redirect(std::string_view error, std::string_view from_host) {
  Redirect r;
  auto const code = code_of(error);
  if (code == "MOVED")
    r.kind = Redirect::Kind::moved;
  else if (code == "ASK")
    r.kind = Redirect::Kind::ask;
  else
    return std::nullopt;
  std::string_view rest = error.substr(code.size());
  if (!rest.starts_with(' ')) return std::nullopt;
  rest.remove_prefix(1);
  auto const sp = rest.find(' ');
  if (sp == std::string_view::npos || !to_number(rest.substr(0, sp), r.slot) || r.slot >= slot_count)
    return std::nullopt;
  std::string_view const where = rest.substr(sp + 1);
  auto const colon = where.rfind(':');  // an IPv6 host has colons of its own
  if (colon == std::string_view::npos || !to_number(where.substr(colon + 1), r.node.port) || r.node.port == 0)
    return std::nullopt;
  std::string_view host = where.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  r.node.host = std::string(host.empty() ? from_host : host);
  return r;
}

Step Redirects::next(RedirectPolicy const& policy, std::error_code ec, Reply const& reply,
                     std::string_view from_host, bool script) {
  Step step;
  if (ec) {
    step.refresh = ec == error::disconnected;  // the node may be gone for good: who serves its slots now?
    return step;
  }
  if (!reply.is_error()) return step;
  if (auto r = parse_redirect(reply.str, from_host)) {
    if (redirects_ >= policy.max_redirects) return step;
    if (r->kind == Redirect::Kind::ask && script && !policy.scripts_follow_ask) return step;
    ++redirects_;
    step.action = r->kind == Redirect::Kind::moved ? Step::Action::moved : Step::Action::ask;
    step.slot = r->slot;
    step.node = std::move(r->node);
    step.refresh = r->kind == Redirect::Kind::moved;
    return step;
  }
  auto const code = code_of(reply.str);
  // TRYAGAIN: a multi-key command met a slot half migrated. CLUSTERDOWN: the
  // cluster has no quorum view yet (a failover in progress) or the slot is
  // unbound. LOADING: a restarted node still reads its data. None of them
  // executed the command.
  if (code == "TRYAGAIN" || code == "CLUSTERDOWN" || code == "LOADING") {
    if (retries_ >= policy.max_retries) return step;
    step.action = Step::Action::retry;
    step.delay = policy.retry_delay * (1u << std::min(retries_, 10u));
    step.refresh = code == "CLUSTERDOWN";
    ++retries_;
  }
  return step;
}

SlotFence::SlotFence() : epoch_(slot_count, 0), out_(slot_count, 0), stale_(slot_count, 0) {}

std::uint32_t SlotFence::sent(std::uint16_t slot) noexcept {
  ++out_[slot];
  return epoch_[slot];
}

bool SlotFence::answered(std::uint16_t slot, std::uint32_t ticket) noexcept {
  if (out_[slot] > 0) --out_[slot];
  if (ticket == epoch_[slot] || stale_[slot] == 0) return false;
  return --stale_[slot] == 0;
}

void SlotFence::owner_changed(std::uint16_t slot) noexcept {
  ++epoch_[slot];
  stale_[slot] = out_[slot];
}

}  // namespace exceed::store
