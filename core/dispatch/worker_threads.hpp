// Fork and join for the dispatch workers: run(task) calls task(0) on the calling thread and
// task(1) … task(N-1) on threads of their own, and returns when every call has returned.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vumi::dispatch {

class WorkerThreads {
 public:
  // workers >= 1; workers - 1 threads are started (none for one worker).
  explicit WorkerThreads(std::size_t workers);
  ~WorkerThreads();  // joins the threads (no run may be in progress)
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  std::size_t size() const { return threads_.size() + 1; }
  // task must not throw; one run at a time, from one thread.
  void run(const std::function<void(std::size_t worker)>& task);

 private:
  void serve(std::size_t worker);

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::uint64_t generation_ = 0;  // counts runs; a thread starts once per new value
  std::size_t running_ = 0;       // threads still in the current run's task
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vumi::dispatch
