// The second pass on two cores: accounts handed from the thread that parses them to the thread
// that reads them, in batches of 16, so that each side waits for the other only per batch. Each
// account's value is built in the arena of the batch being filled and freed with it. Nothing is
// allocated after construction but the accounts' keys and values.
#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_document.hpp"

namespace vumi::config {

class AccountHandoff {
 public:
  AccountHandoff();
  AccountHandoff(const AccountHandoff&) = delete;
  AccountHandoff& operator=(const AccountHandoff&) = delete;

  // The parsing side. The storage to build the next account's value in.
  boost::json::storage_ptr storage() const;
  // Adds an account built in storage(); hands the batch over when it is full. False once the
  // reading side stopped (the parse should stop too).
  bool put(std::string_view key, boost::json::value&& value);
  // No more accounts: hands over what is left. The reading side's visit_all returns after it.
  void finish();

  // The reading side. Calls visit for each account in order until finish(); if visit throws,
  // the parsing side's put() returns false from then on, and the exception goes on.
  void visit_all(const AccountVisitor& visit);

 private:
  struct Batch {
    explicit Batch(std::size_t buffer_bytes);
    // Destroys the values, then the arena: a new one starts on the buffer again. (release() would
    // keep the arena's next block size, which doubles each time a batch outgrows the buffer.)
    void clear();
    std::unique_ptr<unsigned char[]> buffer;
    std::size_t buffer_bytes;
    std::optional<boost::json::monotonic_resource> arena;
    std::vector<std::pair<std::string, boost::json::value>> accounts;
  };

  Batch* next_free();  // waits for a batch the reading side is done with; null once it stopped
  void hand_over();

  std::vector<std::unique_ptr<Batch>> batches_;
  Batch* filling_ = nullptr;  // parsing side only
  std::mutex mutex_;
  std::condition_variable changed_;
  // Queues of at most every batch, reserved so that adding never allocates; front() is next.
  std::vector<Batch*> full_;  // in order, for the reading side
  std::vector<Batch*> free_;
  bool finished_ = false;
  bool stopped_ = false;
};

}  // namespace vumi::config
