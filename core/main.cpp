// vumi-dispatcher: the daemon and its operator tools (see `vumi-dispatcher --help`).
#include <exception>
#include <iostream>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
  try {
    return vumi::cli::run_command_line(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vumi-dispatcher: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "vumi-dispatcher: unknown error\n";
  }
  return 1;
}
