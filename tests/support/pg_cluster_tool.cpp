// vumi_test_pg_cluster start FILE | stop FILE: the ctest fixture that runs one throwaway PostgreSQL
// cluster for every test process of a run (pg_cluster.hpp). start prints why it skipped when the
// server binaries are missing (the tests then skip too) and exits 0.
#include <iostream>
#include <string>

#include "pg_cluster.hpp"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::cerr << "usage: vumi_test_pg_cluster start|stop FILE\n";
    return 2;
  }
  const std::filesystem::path file = argv[2];
  try {
    if (std::string(argv[1]) == "start") {
      std::filesystem::remove(file);
      if (std::string missing = vumi::testing::PgCluster::server_binaries_missing(); !missing.empty()) {
        std::cout << "no PostgreSQL test cluster: " << missing << "\n";
        return 0;
      }
      vumi::testing::PgCluster cluster(vumi::testing::PgCluster::Options{});
      cluster.hand_over(file);
      std::cout << "PostgreSQL test cluster on 127.0.0.1:" << cluster.port() << " in "
                << cluster.folder().string() << "\n";
      return 0;
    }
    if (!std::filesystem::exists(file)) return 0;  // none was started
    vumi::testing::PgCluster::take_over(file, true).reset();
    std::filesystem::remove(file);
    std::cout << "PostgreSQL test cluster stopped and removed\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vumi_test_pg_cluster " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
}
