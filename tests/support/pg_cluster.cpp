#include "pg_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace vumi::testing {

namespace {

namespace fs = std::filesystem;

constexpr int kStartAttempts = 5;  // each on a fresh ephemeral port, in case another process took it
constexpr const char* kPackages = "postgresql (server) and libpq-dev (client), e.g. scripts/setup";

bool has_server_binaries(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "initdb", ec) && fs::exists(dir / "pg_ctl", ec) && fs::exists(dir / "postgres", ec);
}

// /usr/lib/postgresql/<newest version>/bin, else the folder /usr/local/bin/pg_ctl points into.
fs::path find_bin_dir() {
  std::error_code ec;
  std::vector<std::pair<int, fs::path>> found;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string version = entry.path().filename().string();
    if (!version.empty() && std::all_of(version.begin(), version.end(), ::isdigit) &&
        has_server_binaries(entry.path() / "bin"))
      found.emplace_back(std::stoi(version), entry.path() / "bin");
  }
  if (!found.empty()) return std::max_element(found.begin(), found.end())->second;
  const fs::path local = fs::canonical("/usr/local/bin/pg_ctl", ec);
  if (!ec && has_server_binaries(local.parent_path())) return local.parent_path();
  return {};
}

// The postgres user's ids when we are root (initdb and postgres refuse to run as root).
std::optional<std::pair<uid_t, gid_t>> server_user() {
  if (::geteuid() != 0) return std::nullopt;
  const passwd* user = ::getpwnam("postgres");
  if (user == nullptr) return std::pair<uid_t, gid_t>{0, 0};
  return std::pair{user->pw_uid, user->pw_gid};
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs SQL on a database of the cluster; "" or libpq's message.
std::string run_sql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  return error;
}

// A database name from a test's name: lowercase letters, digits and '_', at most 63 bytes.
std::string database_name(const std::string& hint) {
  static std::atomic<int> counter{0};
  std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_";
  for (char c : hint)
    name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  return name.substr(0, 63);
}

}  // namespace

std::string PgCluster::server_binaries_missing() {
  if (find_bin_dir().empty())
    return "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin or "
           "/usr/local/bin: install " +
           std::string(kPackages);
  if (auto user = server_user(); user && user->first == 0)
    return "running as root and there is no \"postgres\" user to run the PostgreSQL server as: install " +
           std::string(kPackages);
  return {};
}

PgCluster::PgCluster(Options options) : options_(options), bin_dir_(find_bin_dir()) {
  if (std::string missing = server_binaries_missing(); !missing.empty()) throw std::runtime_error(missing);
  std::string pattern = (fs::temp_directory_path() / "vumi-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a folder for PostgreSQL");
  folder_ = pattern;
  if (auto user = server_user()) {
    if (::chown(folder_.c_str(), user->first, user->second) != 0)
      throw std::runtime_error("cannot give " + folder_.string() + " to the postgres user");
  }
  std::string log;
  const int rc = run_tool("initdb",
                          {"-D", (folder_ / "data").string(), "-U", "vumi", "-A", "trust", "-E", "UTF8",
                           "--locale=C", "--no-sync", "--no-instructions"},
                          log);
  if (rc != 0) {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
    throw std::runtime_error("initdb failed (exit " + std::to_string(rc) + "): " + log);
  }
  for (int attempt = 0; attempt < kStartAttempts && !running_; ++attempt) running_ = start_on_free_port(log);
  if (!running_) {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
    throw std::runtime_error("PostgreSQL did not start after " + std::to_string(kStartAttempts) +
                             " attempts: " + log);
  }
}

PgCluster::~PgCluster() {
  if (!owning_) return;
  stop();
  std::error_code ignored;
  fs::remove_all(folder_, ignored);
}

bool PgCluster::start_on_free_port(std::string& log) {
  port_ = free_loopback_port();
  std::string settings =
      "-h 127.0.0.1 -p " + std::to_string(port_) + " -k " + folder_.string() + " -c max_connections=40";
  if (!options_.durable)
    settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB";
  const fs::path server_log = folder_ / "server.log";
  std::string output;
  const int rc = run_tool("pg_ctl",
                          {"-D", (folder_ / "data").string(), "-l", server_log.string(), "-w", "-t", "60",
                           "-o", settings, "start"},
                          output);
  if (rc == 0) return true;
  log = output + read_text(server_log);
  std::string ignored;
  run_tool("pg_ctl", {"-D", (folder_ / "data").string(), "-m", "immediate", "-w", "stop"}, ignored);
  return false;
}

void PgCluster::stop() {
  if (!running_) return;
  running_ = false;
  std::string log;
  run_tool("pg_ctl", {"-D", (folder_ / "data").string(), "-m", "immediate", "-w", "-t", "30", "stop"}, log);
}

int PgCluster::run_tool(const std::string& tool, const std::vector<std::string>& args,
                        std::string& log) const {
  std::vector<std::string> argv;
  if (server_user()) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.push_back((bin_dir_ / tool).string());
  argv.insert(argv.end(), args.begin(), args.end());
  const fs::path output = folder_ / (tool + ".out");
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> cargv;
    for (auto& arg : argv) cargv.push_back(arg.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  log += read_text(output);
  std::error_code ignored;
  fs::remove(output, ignored);
  if (pid < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string PgCluster::url(const std::string& database) const {
  return "postgresql://vumi@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PgCluster::create_database(const std::string& name) {
  if (std::string error = run_sql(url("postgres"), "CREATE DATABASE \"" + name + "\""); !error.empty())
    throw std::runtime_error("cannot create database " + name + ": " + error);
  return url(name);
}

bool PgCluster::drop_database(const std::string& name) {
  return run_sql(url("postgres"), "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)").empty();
}

void PgCluster::hand_over(const fs::path& file) {
  std::ofstream(file) << folder_.string() << "\n" << port_ << "\n" << bin_dir_.string() << "\n";
  owning_ = false;
}

std::unique_ptr<PgCluster> PgCluster::take_over(const fs::path& file, bool owning) {
  std::ifstream in(file);
  std::unique_ptr<PgCluster> cluster(new PgCluster());
  std::string folder, bin_dir;
  if (!std::getline(in, folder) || !(in >> cluster->port_) || !(in >> bin_dir))
    throw std::runtime_error("no PostgreSQL test cluster is described in " + file.string());
  cluster->folder_ = folder;
  cluster->bin_dir_ = bin_dir;
  cluster->running_ = true;
  cluster->owning_ = owning;
  return cluster;
}

PgCluster* PgCluster::shared(std::string& why) {
  static std::string failure;
  static std::unique_ptr<PgCluster> cluster = []() -> std::unique_ptr<PgCluster> {
    failure = server_binaries_missing();
    if (!failure.empty()) return nullptr;
    try {
      // The run's cluster (ctest's fixture); without it (ctest -FA, a binary run by hand) an own one.
      std::error_code ec;
      if (const char* file = std::getenv("VUMI_TEST_PG_CLUSTER"); file != nullptr && fs::exists(file, ec))
        return take_over(file, false);
      return std::make_unique<PgCluster>(Options{});
    } catch (const std::exception& e) {
      failure = e.what();
      return nullptr;
    }
  }();
  why = failure;
  return cluster.get();
}

PgTestDatabase::PgTestDatabase() {
  PgCluster* cluster = PgCluster::shared(skip_reason_);
  if (cluster == nullptr) return;
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  name_ = database_name(test != nullptr ? test->name() : "db");
  url_ = cluster->create_database(name_);
}

PgTestDatabase::~PgTestDatabase() {
  std::string ignored;
  if (!url_.empty()) PgCluster::shared(ignored)->drop_database(name_);
}

}  // namespace vumi::testing
