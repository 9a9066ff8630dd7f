// Errors of the bus: request outcomes as error codes, and a text error for people (files, setup).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/is_error_code_enum.hpp>

#include <string>
#include <type_traits>

namespace hasys::bus {

// Expected failures of a request (and of a flush): returned as values, never thrown.
enum class errc {
  timeout = 1,    // no reply within the request's timeout
  no_responders,  // the server said nobody subscribes to the subject (NATS 2.2+ status 503)
  not_connected,  // the connection is (re)connecting: nothing was sent
  closed,         // the connection was closed before the reply came
  rejected,       // nats.c refused to send: bad subject or payload over the server's max_payload
};

const boost::system::error_category& bus_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), bus_category()};
}

// A failure meant for a person: names the file or field, the value and the rule.
// `result<T, error_message>::value()` throws std::runtime_error with the same text.
struct error_message {
  std::string text;
};

[[noreturn]] void throw_exception_from_error(const error_message& e,
                                             const boost::source_location& loc);

}  // namespace hasys::bus

template <>
struct boost::system::is_error_code_enum<hasys::bus::errc> : std::true_type {};
