// vumi-dispatcher: the daemon and its operator tools (see `vumi-dispatcher --help`).
#include "cli/cli.hpp"

int main(int argc, char** argv) {
  return vumi::cli::main(argc, argv);
}
