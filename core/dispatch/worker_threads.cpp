#include "dispatch/worker_threads.hpp"

#include "crash/crash_handler.hpp"

namespace vumi::dispatch {

WorkerThreads::WorkerThreads(std::size_t workers) {
  for (std::size_t i = 1; i < workers; ++i) threads_.emplace_back([this, i] { serve(i); });
}

WorkerThreads::~WorkerThreads() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerThreads::run(const std::function<void(std::size_t)>& task) {
  if (threads_.empty()) {
    task(0);
    return;
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    running_ = threads_.size();
    ++generation_;
  }
  start_.notify_all();
  task(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return running_ == 0; });
  task_ = nullptr;
}

void WorkerThreads::serve(std::size_t worker) {
  // A plugin that overflows this thread's stack is reported as on the dispatch thread.
  const crash::ThreadSignalStack signal_stack;
  std::uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const std::function<void(std::size_t)>& task = *task_;
    lock.unlock();
    task(worker);
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

}  // namespace vumi::dispatch
