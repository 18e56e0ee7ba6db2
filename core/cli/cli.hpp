// The vumi-dispatcher command line: run, check, plugins, publish, listen, contacts, inbox, dead-letters.
#pragma once

namespace vumi::cli {

// Parses arguments, runs the subcommand, returns the process exit code. Never throws.
int main(int argc, char** argv);

}  // namespace vumi::cli
