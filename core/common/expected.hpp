// The one way an internal API says "a value, or why not": Expected<T, E>, E defaulting to Error
// (a stable code, the message the user reads, and the JSON path it concerns).
//
//   Expected<Envelope, Rejection> restore(std::string_view text);  // the data path's own error
//   Expected<int> parse_port(std::string_view text) {
//     if (text.empty()) return fail(ErrorCode::invalid, "is empty", "listen.port");
//     return 8080;
//   }
//
// Why not boost::system::result: its error must be an error_code or exception_ptr-like type, so
// the message and path would live beside it; and why not std::expected: it is C++23 and g++ 12
// (Debian 12) lacks it. Expected keeps std::expected's names (has_value, operator*, error(),
// Unexpected, value_or), so moving to std::expected later is mostly a rename. Two differences:
// value() does not throw: reading the value of a failed result (or the error of a success) is a
// bug, and it aborts with a message in every build instead, since results travel the data path,
// where nothing throws (one predictable branch per access); and an error converts
// implicitly when it cannot be taken for a value (`return Rejection{...};`, `return *problem;`),
// which keeps the decoder's many early returns short (std::expected would want Unexpected there).
//
// Holding either alternative costs what the alternative costs: no allocation of its own, so a
// result on the per-event path is as cheap as the std::variant it replaces.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace vumi {

// What kind of failure, for code that reacts to it; the message says the rest to a person.
enum class ErrorCode : unsigned char {
  invalid,      // the input breaks a rule (a bad identifier, config value or option)
  refused,      // a plugin, handler or store refused (its reason is the message)
  not_found,    // what was named does not exist
  unavailable,  // a resource cannot be used now (I/O, a busy or closed store)
  internal,     // a bug or a resource exhausted on our side
};

// The stable name of a code, e.g. "invalid".
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // what and why, e.g. "contains '.' (allowed: A-Z a-z 0-9 _ : -)"
  std::string path;     // where: the JSON path it concerns ("accounts.a.routes[0]"); may be empty

  // "<path>: <message>", or just the message when there is no path.
  std::string text() const;
};

// The failure a result is made from: `return Unexpected(Error{...});` (as std::unexpected).
template <typename E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  const E& error() const& { return error_; }
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <typename E>
Unexpected(E) -> Unexpected<E>;

// Shorthand for the common failure: `return fail(ErrorCode::invalid, "is empty");`.
inline Unexpected<Error> fail(ErrorCode code, std::string message, std::string path = {}) {
  return Unexpected(Error{code, std::move(message), std::move(path)});
}

// Reading what a result does not hold is a bug; it stops here, in every build.
[[noreturn]] inline void expected_misread(const char* what) {
  std::fprintf(stderr, "vumi::Expected: read %s it does not hold\n", what);
  std::abort();
}

template <typename T, typename E = Error>
class [[nodiscard]] Expected {
  template <typename U>
  static constexpr bool kIsValue =
      !std::is_same_v<std::remove_cvref_t<U>, Expected> &&
      !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> && std::is_constructible_v<T, U&&>;

 public:
  using value_type = T;
  using error_type = E;

  // The constructors below are implicit on purpose (`return value;`, `return Unexpected(e);`,
  // `return Rejection{...};`); the forwarding ones are constrained so they never stand in for copy
  // or move.
  // NOLINTBEGIN(google-explicit-constructor,bugprone-forwarding-reference-overload)

  // A success holding the value.
  template <typename U = T>
  requires kIsValue<U> Expected(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}
  // A success holding a value built in place.
  template <typename... Args>
  explicit Expected(std::in_place_t /*unused*/, Args&&... args)
      : state_(std::in_place_index<0>, std::forward<Args>(args)...) {}
  // A failure.
  template <typename G>
  requires std::is_constructible_v<E, G&&> Expected(Unexpected<G> failure)
      : state_(std::in_place_index<1>, std::move(failure).error()) {}
  // A failure given as the error itself, when it cannot be taken for a value.
  template <typename G>
  requires(!kIsValue<G> && !std::is_same_v<std::remove_cvref_t<G>, Expected> &&
           std::is_constructible_v<E, G&&>) Expected(G&& error)
      : state_(std::in_place_index<1>, std::forward<G>(error)) {}

  // NOLINTEND(google-explicit-constructor,bugprone-forwarding-reference-overload)

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // The value; has_value() must be true.
  T& value() & { return *get_if<0>(); }
  const T& value() const& { return *get_if<0>(); }
  T&& value() && { return std::move(*get_if<0>()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return get_if<0>(); }
  const T* operator->() const { return get_if<0>(); }

  // The error; has_value() must be false.
  E& error() & { return *get_if<1>(); }
  const E& error() const& { return *get_if<1>(); }
  E&& error() && { return std::move(*get_if<1>()); }

  // The value, or fallback on failure.
  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  template <std::size_t I>
  auto* get_if() {
    auto* held = std::get_if<I>(&state_);
    if (!held) expected_misread(I == 0 ? "the value of a failure" : "the error of a success");
    return held;
  }
  template <std::size_t I>
  const auto* get_if() const {
    const auto* held = std::get_if<I>(&state_);
    if (!held) expected_misread(I == 0 ? "the value of a failure" : "the error of a success");
    return held;
  }

  std::variant<T, E> state_;  // index 0: the value, 1: the error (T and E may be the same type)
};

// A result that carries no value: success, or the error.
template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Expected() = default;  // success
  // Implicit on purpose, as for Expected<T, E>.
  // NOLINTBEGIN(google-explicit-constructor,bugprone-forwarding-reference-overload)
  template <typename G>
  requires std::is_constructible_v<E, G&&> Expected(Unexpected<G> failure)
      : error_(std::in_place, std::move(failure).error()) {}
  // A failure given as the error itself.
  template <typename G>
  requires(!std::is_same_v<std::remove_cvref_t<G>, Expected> && std::is_constructible_v<E, G&&>)
      Expected(G&& error)
      : error_(std::in_place, std::forward<G>(error)) {}
  // NOLINTEND(google-explicit-constructor,bugprone-forwarding-reference-overload)

  bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }

  // The error; has_value() must be false.
  E& error() & {
    if (!error_) expected_misread("the error of a success");
    return *error_;
  }
  const E& error() const& {
    if (!error_) expected_misread("the error of a success");
    return *error_;
  }
  E&& error() && {
    if (!error_) expected_misread("the error of a success");
    return std::move(*error_);
  }

 private:
  std::optional<E> error_;
};

}  // namespace vumi
