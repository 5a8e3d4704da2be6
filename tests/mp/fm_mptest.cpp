// fm_mptest - runs one FM scenario on every rank of a job launched by Hydra's mpiexec.
//   mpiexec.hydra -n 4 -genv FM_PROVIDER tcp fm_mptest flood
// Exit status: 0 pass, 1 fail, 77 skipped (provider not available here).
// "kill" is the peer-failure test: the last rank (or FM_TEST_VICTIM) SIGKILLs itself during a
// flood; survivors must get FM_EPEERFAILED naming it, keep talking to each other, and finalize.
// "unreachable" is its network form (tests/netns/run.sh --cut-host): the last rank creates the
// file $FM_TEST_CUT_FILE during a flood, the harness then drops every packet between its host and
// the others.  Nobody dies and the launcher sends no hint: both sides find the failure by FM's
// time-out alone (FM_PEER_TIMEOUT_MS; over udp, FM's reliability layer, over tcp, the kernel's
// acknowledgements); the cut-off rank reports every other node failed, each within the bound of
// its wait for that node (it finds them one after the other as its flood blocks on each: over tcp
// there is nothing in flight to a node until it sends to it again).
// "unreachable_quiet" cuts the same host off while nobody waits for it by name: every rank has
// exchanged a message with every other, then sits in FM_extract_wait (a receive from any source,
// as MPI_Recv's progress or a barrier's) until the failure is reported.  Over tcp FM keeps its
// quiet peers alive: the survivors report the cut-off node, and only it, and the cut-off rank
// reports every other node, within 1.5 times the time-out (plus slack) of the cut.
#include <execinfo.h>
#include <fm/fm.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../common/scenarios.hpp"

namespace {

int g_flood = 0, g_ring = 0;
int h_flood(FM_stream*, unsigned) {
  ++g_flood;
  return FM_CONTINUE;
}
int h_ring(FM_stream*, unsigned) {
  ++g_ring;
  return FM_CONTINUE;
}

using Clock = std::chrono::steady_clock;

// Seconds within which a failure must be reported: the configured peer time-out plus slack
// for the harness to act, or 10 s when the launcher's hint (kill) makes it immediate.
double failure_bound(bool unreachable) {
  if (!unreachable) return 10.0;
  const char* e = std::getenv("FM_PEER_TIMEOUT_MS");
  return (e != nullptr ? std::atof(e) / 1000.0 : 10.0) + 5.0;
}

// Creates $FM_TEST_CUT_FILE: the harness then cuts this rank's host off.
bool request_cut(unsigned me) {
  const char* cut = std::getenv("FM_TEST_CUT_FILE");
  FILE* f = cut != nullptr ? std::fopen(cut, "w") : nullptr;
  if (f == nullptr) {
    std::fprintf(stderr, "rank %u: cannot create FM_TEST_CUT_FILE %s (tests/netns/run.sh)\n", me,
                 cut != nullptr ? cut : "(unset)");
    return false;
  }
  std::fclose(f);
  return true;
}

// The cut-off rank: floods everybody until every other node is reported failed, naming it.
int run_isolated(unsigned me, unsigned n) {
  std::vector<char> b(1000);
  for (unsigned i = 0; i < 50; ++i)
    for (unsigned d = 0; d < n; ++d)
      if (FM_send(d, 40, b.data(), b.size()) != FM_SUCCESS) return 1;
  if (!request_cut(me)) return 1;
  const auto t0 = Clock::now();
  auto last = t0;  // the cut, then the last report: each wait ends within the bound
  double slowest = 0;
  std::vector<bool> down(n, false);
  unsigned ndown = 0;
  while (ndown < n - 1 && Clock::now() - t0 < std::chrono::seconds(60)) {
    for (unsigned d = 0; d < n; ++d) {
      if (d == me || down[d]) continue;
      const int rc = FM_send(d, 40, b.data(), b.size());
      if (rc == FM_EPEERFAILED) {
        const std::string msg = FM_last_error(), name = "node " + std::to_string(d);
        if (msg.find(name) == std::string::npos) {
          std::fprintf(stderr, "rank %u: failure message does not name %s: %s\n", me, name.c_str(),
                       msg.c_str());
          return 1;
        }
        down[d] = true;
        ++ndown;
        const auto now = Clock::now();
        slowest = std::max(slowest, std::chrono::duration<double>(now - last).count());
        last = now;
        std::printf("rank %u (cut off): %s reported failed after %.2f s\n", me, name.c_str(),
                    std::chrono::duration<double>(now - t0).count());
      } else if (rc != FM_SUCCESS) {
        std::fprintf(stderr, "rank %u: FM_send to %u: %s (%s)\n", me, d, FM_strerror(rc),
                     FM_last_error());
        return 1;
      }
    }
    (void)FM_extract(SIZE_MAX);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (ndown != n - 1 || slowest > failure_bound(true)) {
    std::fprintf(stderr,
                 "rank %u (cut off): %u of %u peers reported failed in %.1f s (%.1f s at most "
                 "between two reports, bound %.0f s)\n",
                 me, ndown, n - 1, secs, slowest, failure_bound(true));
    return 1;
  }
  std::printf("ISOLATED OK rank %u\n", me);
  return 0;
}

int run_quiet(unsigned me, unsigned n) {
  const unsigned victim = n - 1;
  std::vector<char> b(100);
  for (unsigned d = 0; d < n; ++d)  // every pair has exchanged data (connections exist)
    if (d != me && FM_send(d, 41, b.data(), b.size()) != FM_SUCCESS) return 1;
  const auto t = Clock::now();
  while (g_ring < static_cast<int>(n - 1) && Clock::now() - t < std::chrono::seconds(30))
    if (FM_extract_wait(SIZE_MAX, 100) < 0) return 1;
  if (g_ring != static_cast<int>(n - 1) || fmtest::fm_barrier() != 0) return 1;
  g_ring = 0;
  if (me == victim && !request_cut(me)) return 1;
  const char* e = std::getenv("FM_PEER_TIMEOUT_MS");
  const double bound = 1.5 * (e != nullptr ? std::atof(e) / 1000.0 : 10.0) + 5.0;
  const unsigned expect = me == victim ? n - 1 : 1;  // failures this rank must report
  const auto t0 = Clock::now();
  unsigned reported = 0;
  while (reported < expect && Clock::now() - t0 < std::chrono::seconds(60)) {
    // the wait names nobody (what arrives is the ring of survivors that finished first)
    const long r = FM_extract_wait(SIZE_MAX, 1000);
    if (r == FM_EPEERFAILED) {
      ++reported;
      std::printf("rank %u: after %.2f s: %s\n", me,
                  std::chrono::duration<double>(Clock::now() - t0).count(), FM_last_error());
    } else if (r < 0) {
      std::fprintf(stderr, "rank %u: FM_extract_wait: %s (%s)\n", me,
                   FM_strerror(static_cast<int>(r)), FM_last_error());
      return 1;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (unsigned d = 0; d < n; ++d) {
    const bool should = d != me && (me == victim || d == victim);
    if ((FM_peer_failed(d) == 1) != should) {
      std::fprintf(stderr, "rank %u: node %u %s failed\n", me, d,
                   should ? "was not reported" : "was wrongly declared");
      return 1;
    }
  }
  if (reported != expect || secs > bound) {
    std::fprintf(stderr, "rank %u: %u of %u failures reported in %.1f s (bound %.1f s)\n", me,
                 reported, expect, secs, bound);
    return 1;
  }
  if (me == victim) {
    std::printf("ISOLATED OK rank %u\n", me);
    return 0;
  }
  // the survivors still talk to each other: a ring of 50 messages (around the victim)
  const unsigned next = (me + 1) % n == victim ? (me + 2) % n : (me + 1) % n;
  for (int i = 0; i < 50; ++i)
    if (FM_send(next, 41, b.data(), b.size()) != FM_SUCCESS) return 1;
  const auto t1 = Clock::now();
  while (g_ring < 50 && Clock::now() - t1 < std::chrono::seconds(30))
    if (FM_extract_wait(SIZE_MAX, 100) < 0) return 1;
  if (g_ring < 50) {
    std::fprintf(stderr, "rank %u: survivors' ring got %d of 50\n", me, g_ring);
    return 1;
  }
  std::printf("SURVIVOR OK rank %u\n", me);
  return 0;
}

int run_kill(unsigned me, unsigned n, bool unreachable) {
  // the last rank, or FM_TEST_VICTIM's
  const char* v = std::getenv("FM_TEST_VICTIM");
  const unsigned victim =
      v != nullptr && !unreachable ? static_cast<unsigned>(std::atoi(v)) % n : n - 1;
  fmtest::fm_barrier();
  if (me == victim && unreachable) return run_isolated(me, n);
  if (me == victim) {
    std::vector<char> b(1000);
    for (unsigned i = 0; i < 200; ++i)
      for (unsigned d = 0; d < n; ++d) (void)FM_send(d, 40, b.data(), b.size());
    raise(SIGKILL);
  }
  // survivors: flood everybody, the victim included, until its failure is reported
  std::vector<char> b(1000);
  const auto t0 = Clock::now();
  bool reported = false;
  std::string msg;
  for (unsigned i = 0; !reported && Clock::now() - t0 < std::chrono::seconds(60); ++i) {
    for (unsigned d = 0; d < n && !reported; ++d) {
      int rc = FM_send(d, 40, b.data(), b.size());
      if (rc == FM_EPEERFAILED) {
        reported = true;
        msg = FM_last_error();
      } else if (rc != FM_SUCCESS) {
        std::fprintf(stderr, "rank %u: FM_send to %u: %s (%s)\n", me, d, FM_strerror(rc),
                     FM_last_error());
        return 1;
      }
    }
    long r = FM_extract(SIZE_MAX);
    if (r == FM_EPEERFAILED) {
      reported = true;
      msg = FM_last_error();
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!reported) {
    std::fprintf(stderr, "rank %u: the killed rank was not reported within 60 s\n", me);
    return 1;
  }
  const std::string name = "node " + std::to_string(victim);
  if (msg.find(name) == std::string::npos) {
    std::fprintf(stderr, "rank %u: failure message does not name %s: %s\n", me, name.c_str(),
                 msg.c_str());
    return 1;
  }
  if (FM_peer_failed(victim) != 1) return 1;
  std::printf("rank %u: peer failure reported after %.2f s: %s\n", me, secs, msg.c_str());
  if (secs > failure_bound(unreachable)) {
    std::fprintf(stderr, "rank %u: reported after %.1f s, beyond the %.0f s bound\n", me, secs,
                 failure_bound(unreachable));
    return 1;
  }
  // sends to the dead fail at once, naming it
  if (FM_send(victim, 40, b.data(), 8) != FM_EPEERFAILED) return 1;
  // survivors still talk to each other: a ring of 50 messages (around the victim)
  unsigned next = (me + 1) % n;
  if (next == victim) next = (next + 1) % n;
  for (int i = 0; i < 50; ++i)
    if (FM_send(next, 41, b.data(), 100) != FM_SUCCESS) return 1;
  const auto t1 = Clock::now();
  while (g_ring < 50 && Clock::now() - t1 < std::chrono::seconds(30))
    if (FM_extract(SIZE_MAX) < 0 && FM_last_status() != FM_EPEERFAILED) return 1;
  if (g_ring < 50) {
    std::fprintf(stderr, "rank %u: survivors' ring got %d of 50\n", me, g_ring);
    return 1;
  }
  std::printf("SURVIVOR OK rank %u\n", me);
  return 0;
}

// A crashing rank prints its stack to its log (the launcher only says "signal 11").
void on_crash(int sig) {
  void* frames[32];
  int n = backtrace(frames, 32);
  char head[64];
  int len = std::snprintf(head, sizeof head, "fm_mptest: signal %d, stack:\n", sig);
  (void)!write(2, head, (size_t)len);
  backtrace_symbols_fd(frames, n, 2);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGSEGV, on_crash);
  signal(SIGBUS, on_crash);
  signal(SIGABRT, on_crash);
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: fm_mptest SCENARIO   (kill, unreachable, unreachable_quiet, or one of:");
    for (auto& s : fmtest::scenarios()) std::fprintf(stderr, " %s", s.name);
    std::fprintf(stderr, ")\n");
    return 2;
  }
  const std::string name = argv[1];
  const fmtest::Scenario* sc = fmtest::find_scenario(name);
  const bool failure_test = name == "kill" || name == "unreachable" || name == "unreachable_quiet";
  if (sc == nullptr && !failure_test) {
    std::fprintf(stderr, "fm_mptest: unknown scenario \"%s\"\n", name.c_str());
    return 2;
  }
  // FM_TEST_STALE_SHM=1: leave what a killed process with our pid would have left in /dev/shm
  // (libfabric's shm region), which made fi_enable fail with EBUSY before FM removed it.
  if (const char* e = std::getenv("FM_TEST_STALE_SHM"); e != nullptr && e[0] == '1') {
    const std::string path = "/dev/shm/" + std::to_string(getpid()) + ":0:0";
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fputs("stale", f);
      std::fclose(f);
    }
  }
  fmtest::register_handlers();
  FM_register_handler(40, h_flood);
  FM_register_handler(41, h_ring);
  int rc = FM_initialize();
  if (rc == FM_ENOPROVIDER) {
    // The whole job skips, through the launcher (docs/fm.md, FM_abort): mpiexec then exits 77
    // whichever rank gets here first, and no rank waits for one that will never come.
    std::fprintf(stderr, "SKIP: %s\n", FM_last_error());
    FM_abort(77, "provider not available (SKIP)");
  }
  if (rc != FM_SUCCESS) {
    std::fprintf(stderr, "FM_initialize: %s: %s\n", FM_strerror(rc), FM_last_error());
    FM_abort(1, "FM_initialize failed");
  }
  const unsigned me = FM_nodeid(), n = FM_numnodes();
  int fails;
  if (failure_test) {
    fails = n < 3 ? (std::fprintf(stderr, "%s needs 3 or more ranks\n", name.c_str()), 1)
            : name == "unreachable_quiet" ? run_quiet(me, n)
                                          : run_kill(me, n, name == "unreachable");
  } else if (n < sc->min_nodes) {
    std::fprintf(stderr, "SKIP: %s needs %u nodes\n", sc->name, sc->min_nodes);
    FM_finalize();
    return 77;
  } else {
    fails = fmtest::run_scenario(*sc, me, n, true);
  }
  const std::string via = n > 1 ? FM_transport_name((me + 1) % n) : "self";
  std::uint64_t resent = 0;  // by this rank, to everybody
  for (unsigned d = 0; d < n; ++d) {
    FM_peer_stats st{};
    if (FM_get_peer_stats(d, &st) == FM_SUCCESS) resent += st.retransmissions;
  }
  rc = FM_finalize();
  if (rc != FM_SUCCESS) {
    std::fprintf(stderr, "rank %u: FM_finalize: %s: %s\n", me, FM_strerror(rc), FM_last_error());
    ++fails;
  }
  char b[8] = {};
  if (FM_send(0, 40, b, 8) != FM_ENOTINIT || FM_extract(SIZE_MAX) != FM_ENOTINIT) {
    std::fprintf(stderr, "rank %u: use after FM_finalize not refused\n", me);
    ++fails;
  }
  // FM_peer_failed after FM_finalize: how the job ended (no failure; or, in a failure test that
  // went as it should, the failure this rank saw), and out-of-range nodes still refused
  unsigned failed = 0;
  for (unsigned d = 0; d < n; ++d) failed += FM_peer_failed(d) == 1 ? 1 : 0;
  const bool as_ended = failure_test ? (fails != 0 || failed > 0) : failed == 0;
  if (!as_ended || FM_peer_failed(n) != FM_ENODEST) {
    std::fprintf(stderr, "rank %u: after FM_finalize, %u nodes failed (FM_peer_failed(%u) = %d)\n",
                 me, failed, n, FM_peer_failed(n));
    ++fails;
  }
  if (fails == 0 && !failure_test)
    std::printf("rank %u/%u: %s passed on %s (%llu packets retransmitted)\n", me, n, name.c_str(),
                via.c_str(), static_cast<unsigned long long>(resent));
  return fails == 0 ? 0 : 1;
}
