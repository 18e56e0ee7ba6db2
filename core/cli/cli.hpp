// The vumi-dispatcher command line: run, check, plugins, publish, listen, contacts, inbox, dead-letters.
#pragma once

namespace vumi::cli {

// Parses arguments, runs the subcommand, returns the process exit code. A subcommand's errors are
// reported and become exit code 1; only a failure to build the parser itself (out of memory) throws.
int run_command_line(int argc, char** argv);

}  // namespace vumi::cli
