// A handler for boost::json::basic_parser that builds a value as boost::json::parser does, but
// refuses a number beyond a double's range. Boost.JSON 1.81 reads one (1e400, or 400 digits) as
// infinity and writes infinity back as `Infinity`, which is not JSON: whatever held it would
// serialise to a text nobody can read.
#pragma once

#include <boost/json/error.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_stack.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace vumi::json {

struct ValueBuilder {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  boost::json::value_stack st;
  bool number_out_of_range = false;  // the parse stopped at such a number

  // Starts a new value whose memory comes from storage.
  void start(boost::json::storage_ptr storage) {
    st.reset(std::move(storage));
    number_out_of_range = false;
  }

  // The message for a parse that stopped at such a number, after "line L col C: ".
  static constexpr const char* kOutOfRangeMessage =
      "a number is beyond the range of a double (about 1.8e308)";

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) { return true; }
  bool on_object_end(std::size_t n, boost::json::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, boost::json::string_view, boost::json::error_code& ec) {
    if (!std::isfinite(d)) {
      number_out_of_range = true;
      ec = boost::json::error::exponent_overflow;
      return false;
    }
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(boost::json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }
};

}  // namespace vumi::json
