// fm_info - prints FM's tunables (-c) and probes which transports this machine offers (-p).
// Uses FM's public API only.
#include <fm/fm.h>

#include <cstdio>
#include <cstring>

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

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "-c") == 0) {
    print_config();
    return 0;
  }
  if (argc == 1 || (argc == 2 && std::strcmp(argv[1], "-p") == 0)) return probe();
  std::fprintf(stderr, "usage: fm_info [-c | -p]\n  -c  list tunables\n  -p  probe transports\n");
  return 2;
}
