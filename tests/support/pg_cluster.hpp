// A throwaway PostgreSQL cluster for tests and benchmarks: initdb and pg_ctl in a temp folder, the
// server on 127.0.0.1 and an ephemeral port, its unix socket in that folder. Stopped and removed
// when the object dies (for the shared instance: when the test binary exits, also after a failure).
//
// Under ctest, one cluster serves every test process: the fixture test pg_cluster.start runs
// `vumi_test_pg_cluster start FILE` (tests/CMakeLists.txt), the suites that need it find it through
// VUMI_TEST_PG_CLUSTER=FILE, and pg_cluster.stop removes it after the last of them, whether they
// passed or not. A test binary run by hand starts its own.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace vumi::testing {

class PgCluster {
 public:
  struct Options {
    // false: fsync and synchronous_commit off (tests); true: the server's durable defaults (benchmarks).
    bool durable = false;
  };
  // Starts a cluster; throws std::runtime_error with the server's log when it cannot. When the server
  // binaries are missing, throws as well: check server_binaries_missing() first.
  explicit PgCluster(Options options);
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;
  ~PgCluster();

  // Why no cluster can run on this machine (the binaries are missing, naming the Debian packages),
  // or "" when they are there.
  static std::string server_binaries_missing();
  // The cluster this test binary shares: the one VUMI_TEST_PG_CLUSTER names, else one started on
  // first use; nullptr with why when it cannot run.
  static PgCluster* shared(std::string& why);

  // Writes the folder and port to file and leaves the server running when this object dies.
  void hand_over(const std::filesystem::path& file);
  // The cluster hand_over wrote to file; owning: stopped and removed when the object dies. Throws
  // std::runtime_error when file does not name one.
  static std::unique_ptr<PgCluster> take_over(const std::filesystem::path& file, bool owning);

  // Creates an empty database and returns its URL (postgresql://vumi@127.0.0.1:PORT/NAME); throws
  // std::runtime_error.
  std::string create_database(const std::string& name);
  // Drops a database, closing its connections first; false when it could not.
  bool drop_database(const std::string& name);
  std::string url(const std::string& database) const;
  int port() const { return port_; }
  const std::filesystem::path& folder() const { return folder_; }

 private:
  PgCluster() = default;  // for take_over
  bool start_on_free_port(std::string& log);
  void stop();
  // Runs a server binary (through runuser as the postgres user when we are root); returns its exit
  // status, with its output appended to log.
  int run_tool(const std::string& tool, const std::vector<std::string>& args, std::string& log) const;

  Options options_;
  std::filesystem::path bin_dir_;
  std::filesystem::path folder_;
  int port_ = 0;
  bool running_ = false;
  bool owning_ = true;  // stops and removes the cluster at the end
};

// A fresh database on the shared cluster, dropped when it goes out of scope. skip_reason() is set
// (and url() empty) when no cluster can run here.
class PgTestDatabase {
 public:
  PgTestDatabase();
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;
  ~PgTestDatabase();
  const std::string& url() const { return url_; }
  const std::string& skip_reason() const { return skip_reason_; }

 private:
  std::string name_;
  std::string url_;
  std::string skip_reason_;
};

}  // namespace vumi::testing
