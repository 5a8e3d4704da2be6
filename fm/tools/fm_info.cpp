// fm_info - prints FM's tunables (-c), probes which transports this machine offers (-p), and
// prints the host topology FM sees (-t).  Uses FM's public API only.
#include <fm/fm.h>
#include <fm/fm_topology.h>

#include <cstdio>
#include <cstring>
#include <vector>

static void print_config() {
  std::printf("# FM tunables (environment overrides; sizes accept K/M/G)\n");
  std::printf("%-20s %-7s %-8s %s\n", "variable", "type", "default", "description");
  FM_tunable t;
  for (unsigned i = 0; FM_config_describe(i, &t) == FM_SUCCESS; ++i)
    std::printf("%-20s %-7s %-8s %s\n", t.name, t.type, t.def, t.help);
}

static int probe() {
  int available = 0;
  char info[512];
  int rc;
  for (unsigned i = 0; (rc = FM_probe_transport(i, info, sizeof info)) != FM_ENODEST; ++i) {
    std::printf("%s\n", info);
    if (rc == FM_SUCCESS) ++available;
  }
  return available == 0 ? 1 : 0;
}

static int topology() {
  const int n = FM_topology_describe(nullptr, 0);
  if (n < 0) {
    std::fprintf(stderr, "fm_info: hwloc could not read this host's topology\n");
    return 1;
  }
  std::vector<char> text(static_cast<std::size_t>(n) + 1);
  FM_topology_describe(text.data(), text.size());
  FM_topology t;
  FM_topology_get(&t);
  std::printf("# host topology (hwloc; the CPUs this process may run on)\n%s", text.data());
  std::printf("this process: cpu %d, NUMA node %d\n", t.cpu, t.numa_node);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "-c") == 0) {
    print_config();
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "-t") == 0) return topology();
  if (argc == 1 || (argc == 2 && std::strcmp(argv[1], "-p") == 0)) return probe();
  std::fprintf(stderr,
               "usage: fm_info [-c | -p | -t]\n  -c  list tunables\n  -p  probe transports\n"
               "  -t  host topology\n");
  return 2;
}
