// What a store operation gives back: its typed value, or why nothing was
// done. Three reasons, told apart because callers answer them differently:
// the domain refused (a script's "conflict ..."), the store could not be
// reached (retry later), or Redis answered something this code does not
// understand (a bug or a foreign key layout: error::protocol).
#pragma once

#include "core/refusal.hpp"

#include <string>
#include <utility>
#include <variant>

namespace exceed::store {

struct Failure {
  enum class Kind : std::uint8_t { refused, unavailable, protocol };
  Kind kind = Kind::unavailable;
  core::Refusal refusal = core::Refusal::conflict;  // when refused
  std::string message;                              // for the log, or (refused) for the asker

  static Failure refused(core::Refusal r, std::string why) { return {Kind::refused, r, std::move(why)}; }
  static Failure unavailable(std::string why) { return {Kind::unavailable, core::Refusal::conflict, std::move(why)}; }
  static Failure protocol(std::string what) { return {Kind::protocol, core::Refusal::conflict, std::move(what)}; }
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Failure f) : v_(std::in_place_index<1>, std::move(f)) {}    // NOLINT
  Result() : v_(std::in_place_index<1>, Failure{}) {}

  explicit operator bool() const noexcept { return v_.index() == 0; }
  T& operator*() & { return std::get<0>(v_); }
  T const& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  T const* operator->() const { return &std::get<0>(v_); }
  Failure const& failure() const { return std::get<1>(v_); }

 private:
  std::variant<T, Failure> v_;
};

// An operation with nothing to give back but success.
struct Done {};

}  // namespace exceed::store
