// fm_info - prints FM's tunables (-c) and probes which transports this machine offers (-p).
#include <cstdio>
#include <cstring>
#include <memory>

#include "transport/transport.hpp"
#include "util/config.hpp"
#include "util/error.hpp"

static void print_config() {
  std::printf("# FM tunables (environment overrides; sizes accept K/M/G)\n");
  std::printf("%-20s %-7s %-8s %s\n", "variable", "type", "default", "description");
  for (const fm::ConfigEntry* e = fm::config_table(); e->name != nullptr; ++e)
    std::printf("%-20s %-7s %-8s %s\n", e->name, e->type, e->def, e->help);
}

static int probe() {
  int failures = 0;
  for (const char* prov : {"shm", "tcp", "verbs"}) {
    fm::transport::OpenParams op;
    op.provider = prov;
    op.rx_depth = 64;
    op.tx_depth = 64;
    std::unique_ptr<fm::transport::Transport> t;
    int rc = fm::transport::open_ofi(op, &t);
    if (rc != 0) {
      std::printf("%-6s unavailable: %s\n", prov, fm::last_error());
      ++failures;
      continue;
    }
    const auto& c = t->caps();
    std::printf("%-6s %-14s inject=%zu max_msg=%zu rx_depth=%u tx_depth=%u wait_fd=%s\n", prov,
                c.name.c_str(), c.inject_size, c.max_msg, c.rx_depth, c.tx_depth,
                c.wait_fd ? "yes" : "no");
  }
  return failures == 3 ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "-c") == 0) {
    print_config();
    return 0;
  }
  if (argc == 1 || (argc == 2 && std::strcmp(argv[1], "-p") == 0)) return probe();
  std::fprintf(stderr, "usage: fm_info [-c | -p]\n  -c  list tunables\n  -p  probe transports\n");
  return 2;
}
