#include "daemon_link.hpp"

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace vumi::testing {

::testing::AssertionResult DaemonLink::connect(const std::filesystem::path& config_file,
                                               const std::vector<std::string>& outbound_prefixes,
                                               const std::vector<std::string>& ingest_topics) {
  using namespace std::chrono_literals;
  daemon = std::make_unique<Daemon>(config_file);
  cursor = 0;
  if (!daemon->listening())
    return ::testing::AssertionFailure() << "the daemon did not listen:\n" << daemon->process().output();
  sub = std::make_unique<transport::TopicSubscriber>(context, daemon->outbound, outbound_prefixes);
  std::vector<std::string> lines;
  for (const auto& prefix : outbound_prefixes) lines.push_back("outbound: subscribe \"" + prefix + "\"");
  if (lines.empty()) lines.push_back("outbound: subscribe");
  for (const auto& line : lines)
    if (!daemon->process().wait_for_line(line, 10s, &cursor))
      return ::testing::AssertionFailure() << "no '" << line << "' within 10 s:\n"
                                           << daemon->process().output();
  pub = std::make_unique<transport::WorkerPublisher>(context, daemon->ingest);
  if (!pub->wait_for_subscriptions(ingest_topics, 10s))
    return ::testing::AssertionFailure() << "the daemon did not subscribe to the publisher within 10 s";
  return ::testing::AssertionSuccess();
}

std::string shipped_config(const std::string& name, const std::filesystem::path& state_dir) {
  std::string cfg = read_text(std::filesystem::path(VUMI_SOURCE_DIR) / "config" / name);
  replace_once(cfg, "tcp://127.0.0.1:7710", "tcp://127.0.0.1:0");
  replace_once(cfg, "tcp://127.0.0.1:7711", "tcp://127.0.0.1:*");
  replace_once(cfg, R"("state_dir": "var")", R"("state_dir": ")" + state_dir.string() + "\"");
  const std::regex plugin_path(R"("plugin_path": \[[^\]]*\])");
  if (!std::regex_search(cfg, plugin_path))
    throw std::invalid_argument("config/" + name + " has no plugin_path");
  return std::regex_replace(cfg, plugin_path, R"("plugin_path": [")" VUMI_PLUGIN_DIR R"("])",
                            std::regex_constants::format_first_only);
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::invalid_argument("replace_once: no \"" + from + "\" in the text");
  text.replace(at, from.size(), to);
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vumi::testing
