#include "config/account_handoff.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

// A batch: enough accounts that waking the other side is rare, few enough that the reading side
// starts soon. Most accounts take 1-3 KB as values; a larger one goes on in the arena's heap.
constexpr std::size_t kBatchAccounts = 16;
constexpr std::size_t kBatchBufferBytes = 64 * 1024;
// One being filled, one being read, and one spare so that neither side waits on a slow account.
constexpr std::size_t kBatches = 3;

// Takes the first of a queue (a few pointers long).
template <class T>
T take_front(std::vector<T>& queue) {
  T first = queue.front();
  queue.erase(queue.begin());
  return first;
}

}  // namespace

AccountHandoff::Batch::Batch(std::size_t bytes) : buffer(new unsigned char[bytes]), buffer_bytes(bytes) {
  arena.emplace(buffer.get(), buffer_bytes);
  accounts.reserve(kBatchAccounts);
}

void AccountHandoff::Batch::clear() {
  accounts.clear();
  arena.emplace(buffer.get(), buffer_bytes);
}

AccountHandoff::AccountHandoff() {
  full_.reserve(kBatches);
  free_.reserve(kBatches);
  for (std::size_t i = 0; i < kBatches; ++i) {
    batches_.push_back(std::make_unique<Batch>(kBatchBufferBytes));
    free_.push_back(batches_.back().get());
  }
  filling_ = take_front(free_);
}

bj::storage_ptr AccountHandoff::storage() const {
  return bj::storage_ptr(&*filling_->arena);
}

bool AccountHandoff::put(std::string_view key, bj::value&& value) {
  filling_->accounts.emplace_back(std::string(key), std::move(value));
  if (filling_->accounts.size() < kBatchAccounts) return true;
  hand_over();
  filling_ = next_free();
  return filling_ != nullptr;
}

void AccountHandoff::finish() {
  if (filling_ && !filling_->accounts.empty()) hand_over();
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  changed_.notify_all();
}

void AccountHandoff::hand_over() {
  {
    std::lock_guard lock(mutex_);
    full_.push_back(filling_);
  }
  changed_.notify_all();
  filling_ = nullptr;
}

AccountHandoff::Batch* AccountHandoff::next_free() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !free_.empty() || stopped_; });
  if (stopped_) return nullptr;
  return take_front(free_);
}

void AccountHandoff::visit_all(const AccountVisitor& visit) {
  for (;;) {
    Batch* batch = nullptr;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return !full_.empty() || finished_; });
      if (full_.empty()) return;  // finished, and every batch read
      batch = take_front(full_);
    }
    try {
      for (const auto& [key, value] : batch->accounts) visit(key, value);
    } catch (...) {
      {
        std::lock_guard lock(mutex_);
        stopped_ = true;
      }
      changed_.notify_all();
      throw;
    }
    batch->clear();
    {
      std::lock_guard lock(mutex_);
      free_.push_back(batch);
    }
    changed_.notify_all();
  }
}

}  // namespace vumi::config
