// Runs a CLI command function in-process and keeps what it printed, for the state command tests.
#pragma once

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace vumi::store::testing {

// Captures what a command writes to std::cout and std::cerr while it lives.
class CapturedOutput {
 public:
  CapturedOutput() : old_out_(std::cout.rdbuf(out_.rdbuf())), old_err_(std::cerr.rdbuf(err_.rdbuf())) {}
  ~CapturedOutput() {
    std::cout.rdbuf(old_out_);
    std::cerr.rdbuf(old_err_);
  }
  CapturedOutput(const CapturedOutput&) = delete;
  CapturedOutput& operator=(const CapturedOutput&) = delete;
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

 private:
  std::ostringstream out_, err_;
  std::streambuf* old_out_;
  std::streambuf* old_err_;
};

struct CommandResult {
  int code;
  std::string out;
  std::string err;
};

// Calls command(args) and returns its exit code with what it printed.
template <typename Args>
CommandResult run_command(int (*command)(const Args&), const Args& args) {
  CapturedOutput captured;
  int code = command(args);
  return {code, captured.out(), captured.err()};
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace vumi::store::testing
