// Shared pieces of the decoder tests: a fake account directory and result accessors.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "event/envelope_decoder.hpp"

namespace vumi::event::testing {

// acct1 declares poll1 (vxpolls) and survey1 (surveys); acct2 declares nothing.
class FakeAccounts : public AccountDirectory {
 public:
  bool has_account(std::string_view account_key) const override {
    return account_key == "acct1" || account_key == "acct2";
  }
  std::optional<std::string_view> conversation_type(std::string_view account_key,
                                                    std::string_view conversation_key) const override {
    auto it = conversations_.find({std::string(account_key), std::string(conversation_key)});
    if (it == conversations_.end()) return std::nullopt;
    return std::string_view(it->second);
  }

 private:
  std::map<std::pair<std::string, std::string>, std::string> conversations_{
      {{"acct1", "poll1"}, "vxpolls"}, {{"acct1", "survey1"}, "surveys"}};
};

inline const std::string kPollTopic = "event.acct1.vxpolls.poll_complete";

// A valid poll_complete body.
inline std::string poll_body() {
  return R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
         R"("event_type":"poll_complete","event_id":"ev1","timestamp":"2026-01-02 03:04:05.000006",)"
         R"("event_data":{"from_addr":"+27831234567","answers":{"name":"Thandi"}}})";
}

// The value of a successful decode (a DecodedMessage holding T, or the T itself), or a test
// failure naming the rejection.
template <class T, class Result>
T take(Result&& decoded) {
  if (!decoded) {
    ADD_FAILURE() << "rejected: " << decoded.error().text();
    return T{};
  }
  if constexpr (std::is_same_v<typename std::remove_cvref_t<Result>::value_type, T>) {
    return std::move(*decoded);
  } else {
    T* value = std::get_if<T>(&*decoded);
    if (!value) {
      ADD_FAILURE() << "decoded to another kind (index " << decoded->index() << ")";
      return T{};
    }
    return std::move(*value);
  }
}

// The reason rejection_of() reports for a message that was accepted.
inline constexpr Reason kAccepted = Reason::count_;

// The rejection of a failed decode (a Rejection with reason kAccepted when it was accepted).
template <class Result>
Rejection rejection_of(const Result& decoded) {
  if (!decoded) return decoded.error();
  return Rejection{kAccepted, "accepted"};
}

}  // namespace vumi::event::testing
