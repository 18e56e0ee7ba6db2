#include "common/expected.hpp"

namespace vumi {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid:
      return "invalid";
    case ErrorCode::refused:
      return "refused";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";  // not reached: every code is named above
}

std::string Error::text() const {
  return path.empty() ? message : path + ": " + message;
}

}  // namespace vumi
