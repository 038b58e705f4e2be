#include "store/map_query.hpp"

namespace exceed::store::detail {

MapQuery::MapQuery(asio::any_io_executor ex, std::vector<Endpoint> candidates, Options opt, Done done)
    : ex_(ex), candidates_(std::move(candidates)), opt_(opt), done_(std::move(done)), timer_(ex) {}

MapQuery::~MapQuery() {
  for (auto& c : conns_) c->stop();
}

void MapQuery::start() {
  for (auto const& ep : candidates_) {
    auto conn = Connection::create(ex_, ep, opt_);
    conn->on_up([w = weak_from_this(), wc = std::weak_ptr<Connection>(conn), host = ep.host] {
      auto self = w.lock();
      auto c = wc.lock();
      if (!self || !c) return;
      c->exec_cb(cluster_slots, [w, host](std::error_code ec, Reply r) {
        if (auto self = w.lock()) self->answer(host, ec, r);
      });
    });
    conns_.push_back(conn);
    conn->start();
  }
  timer_.expires_after(opt_.connect_timeout + opt_.command_timeout);
  timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->timed_out();
  });
}

void MapQuery::cancel() {
  done_ = nullptr;
  timer_.cancel();
  for (auto& c : conns_) c->stop();
}

void MapQuery::answer(std::string const& host, std::error_code ec, Reply const& r) {
  if (!done_) return;
  std::string why = ec ? ec.message() : "";
  auto map = ec ? std::nullopt : SlotMap::from_cluster_slots(r, host, &why);
  if (map && !map->empty()) return finish(std::move(map));
  note(host + ": " + (why.empty() ? "no slot is assigned" : why));
  if (++answered_ == conns_.size()) finish(std::nullopt);
}

void MapQuery::timed_out() {
  for (std::size_t i = 0; i < conns_.size(); ++i)
    if (auto e = conns_[i]->last_error(); !e.empty()) note(candidates_[i].describe() + ": " + e);
  if (errors_.empty()) note("no node answered CLUSTER SLOTS in time");
  finish(std::nullopt);
}

void MapQuery::note(std::string const& why) { errors_ += (errors_.empty() ? "" : "; ") + why; }

void MapQuery::finish(std::optional<SlotMap> map) {
  timer_.cancel();
  for (auto& c : conns_) c->stop();
  auto done = std::move(done_);
  done_ = nullptr;
  auto keep = shared_from_this();  // done() may drop the owner's reference to us
  if (done) done(std::move(map), errors_);
}

}  // namespace exceed::store::detail
