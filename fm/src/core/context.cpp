// context.cpp - a node's parts put together: set-up, extraction, finalize, the progress thread,
// statistics, and in-process jobs over the loopback transport.
#include "core/context.hpp"

#include <poll.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/handlers.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fm::core {

namespace {

// The one-sided engine's internal handlers act on the Context their message arrived at.
int h_put(FM_stream* s, unsigned sender) {
  return current()->rma().on_request(s, sender, 0);
}
int h_get(FM_stream* s, unsigned sender) {
  return current()->rma().on_request(s, sender, 1);
}
int h_atomic(FM_stream* s, unsigned sender) {
  return current()->rma().on_request(s, sender, 2);
}
int h_reply(FM_stream* s, unsigned sender) {
  return current()->rma().on_reply(s, sender, false);
}
int h_get_reply(FM_stream* s, unsigned sender) {
  return current()->rma().on_reply(s, sender, true);
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// set-up and teardown

Context::Context() = default;

std::unique_ptr<Context> Context::create(Wiring&& w, int* rc) {
  std::unique_ptr<Context> c(new Context());
  *rc = c->setup(std::move(w));
  if (*rc != FM_SUCCESS) {
    bootstrap::keep(std::move(c->st_.boot));  // for FM_abort (bootstrap.hpp)
    return nullptr;
  }
  return c;
}

int Context::setup(Wiring&& w) {
  st_.owner = this;
  st_.events = this;
  const int rc = st_.setup(std::move(w));
  if (rc != FM_SUCCESS) return rc;
  live_.setup();
  rx_.setup();
  rma_.setup();
  set_internal_handler(kHPut, h_put);
  set_internal_handler(kHGet, h_get);
  set_internal_handler(kHAtomic, h_atomic);
  set_internal_handler(kHReply, h_reply);
  set_internal_handler(kHGetReply, h_get_reply);
  return FM_SUCCESS;
}

Context::~Context() {
  stop_progress_thread();
  st_.lanes.clear();  // close endpoints before anything posted to them goes
  if (default_context() == this) set_default(nullptr);
}

const char* Context::transport_name(unsigned node) const noexcept {
  if (node >= st_.size) return nullptr;
  if (node == st_.rank) return "self";
  if (st_.lanes.empty()) return "closed";
  return st_.lanes[static_cast<std::size_t>(st_.peers[node].link.lane)].caps().name.c_str();
}

const transport::Transport* Context::transport_of(unsigned node) const noexcept {
  if (node >= st_.size || st_.peers[node].link.lane < 0 || st_.lanes.empty()) return nullptr;
  return st_.lanes[static_cast<std::size_t>(st_.peers[node].link.lane)].tp.get();
}

std::uint64_t Context::retransmissions(unsigned node) const noexcept {
  const transport::Transport* tp = transport_of(node);
  return tp != nullptr ? tp->retransmissions(node) : 0;
}

std::uint64_t Context::shared_copy_bytes(unsigned node) const noexcept {
  const transport::Transport* tp = transport_of(node);
  return tp != nullptr ? tp->shared_copy_bytes(node) : 0;
}

// ------------------------------------------------------------------------------------------------
// extraction

long Context::extract(std::size_t maxbytes) {
  if (st_.closed) return fail(FM_ENOTINIT, "FM_extract: FM is finalized");
  if (st_.in_handler()) return fail(FM_EINHANDLER, "FM_extract: called inside a handler");
  const int rc = rx_.progress();
  if (rc < 0) return rc;
  const long n = rx_.dispatch(maxbytes);
  if ((++extract_calls_ & 63) == 0 || g_peer_event) live_.check();
  if (tx_.any_pending()) tx_.drain();  // pending sends, queued one-sided answers
  if (live_.unreported()) return live_.report();
  return n;
}

long Context::receive(void* buf, FM_stream* s, std::size_t n) {
  if (s == nullptr || s->magic != kInMagic || s->ctx != this)
    return fail(FM_ESTREAM, "FM_receive: not the stream of a running handler");
  return rx_.receive(buf, s, n);
}

// Spins for the adaptive bound, then sleeps (idle.hpp) until a packet, a same-host peer's
// doorbell or the deadline; FM_extract_wait always sleeps after spinning, whatever FM_IDLE says
// (its caller asked to wait).
// It returns once a handler ran, even one whose message had no payload (0 bytes extracted).
long Context::extract_wait(std::size_t maxbytes, int timeout_ms) {
  const std::uint64_t runs = rx_.handler_runs();
  long n = extract(maxbytes);
  if (n != 0 || rx_.handler_runs() != runs) return n;
  const std::uint64_t deadline = deadline_after(timeout_ms);
  Idle& idle = *st_.idle;
  const Idle::WaitScope scope(idle);
  std::uint64_t since = now_ns();
  const bool contended = idle.blocks();  // spin-yield: whom we wait for may need this CPU
  for (;;) {
    const std::uint64_t now = now_ns();
    if (now >= deadline) return 0;
    if (now - since >= (contended ? idle.yield_ns() : idle.spin_ns())) {
      nap(deadline, nullptr, nullptr);
      since = now_ns();
      live_.check();
    } else if (contended) {
      sched_yield();
    }
    if ((n = extract(maxbytes)) != 0 || rx_.handler_runs() != runs) return n;
  }
}

// FM_wait_until: handlers run until done(arg); sleeps after spinning when FM_IDLE says waits
// block now (else spins, yielding the CPU on an oversubscribed machine).
int Context::wait_until(int (*done)(void*), void* arg, int timeout_ms) {
  if (st_.closed) return fail(FM_ENOTINIT, "FM_wait_until: FM is finalized");
  if (st_.in_handler()) return fail(FM_EINHANDLER, "FM_wait_until: called inside a handler");
  if (done == nullptr) return fail(FM_EINVAL, "FM_wait_until: done is NULL");
  if (done(arg) != 0) return FM_SUCCESS;
  const std::uint64_t deadline = deadline_after(timeout_ms);
  Idle& idle = *st_.idle;
  const Idle::WaitScope scope(idle);
  std::uint64_t since = now_ns();
  for (;;) {
    const long n = extract(SIZE_MAX);
    if (n < 0) return static_cast<int>(n);
    if (done(arg) != 0) return FM_SUCCESS;
    const std::uint64_t now = now_ns();
    if (n > 0) {
      since = now;
      continue;
    }
    if (now >= deadline)
      return fail(FM_ETIMEDOUT, "FM_wait_until: not done after %d ms", timeout_ms);
    if (now - since >= idle.yield_ns() && idle.blocks()) {
      // done may wait for a direct store whose writer does not call FM_notify (shmem_ptr):
      // naps of about a millisecond bound what that costs
      nap(std::min(deadline, now + 1000000), done, arg);
      since = now_ns();
      live_.check();
    } else if (st_.oversubscribed || idle.blocks()) {
      sched_yield();  // spin-yield
    }
  }
}

void Context::nap(std::uint64_t deadline, int (*done)(void*), void* arg) {
  Idle& idle = *st_.idle;
  idle.arm();
  std::uint64_t slept = 0;
  // A pending send refused for want of ring room (FM_try_*: MPI-FM's queued sends) looked at
  // the ring before it set its want-space word: the receiver may have made room in between and
  // found no sleeper to ring.  Tried again after arm()'s barrier, it either goes now or leaves
  // the word set where the receiver's next drain sees it, and sees us asleep.
  const std::size_t pending = tx_.pending_total();
  if (pending != 0) tx_.drain();
  if (tx_.pending_total() == pending && rx_.progress() >= 0 && !rx_.anything_ready() &&
      !live_.unreported() && (done == nullptr || done(arg) == 0)) {
    const std::uint64_t now = now_ns();
    if (now < deadline) slept = rx_.sleep_lanes(deadline - now);
  }
  idle.disarm(slept);
}

std::uint64_t Context::deadline_after(int timeout_ms) noexcept {
  return timeout_ms < 0 ? UINT64_MAX
                        : now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1000000ull;
}

// ------------------------------------------------------------------------------------------------
// finalize

void Context::abort(int code, const char* msg) {
  if (st_.boot != nullptr) st_.boot->abort(code, msg);
}

int Context::finalize() {
  if (st_.closed) return fail(FM_ENOTINIT, "FM_finalize: FM is not initialized");
  if (st_.in_handler()) return fail(FM_EINHANDLER, "FM_finalize: called inside a handler");
  const unsigned size = st_.size;
  // 0. Our one-sided operations complete, and what we owe goes out (before our BYE).
  rma_.complete_all();
  if (tx_.any_pending()) tx_.drain();
  // 1. BYE to every live node, after all our data (FIFO), so it knows our traffic is complete.
  for (unsigned p = 0; p < size; ++p) {
    if (p == st_.rank || st_.peers[p].link.failed) continue;
    (void)rx_.wait_until(p, Wait{.what = "FM_finalize (sending BYE)", .handlers = false},
                         [&] { return live_.send_control(p, kBye) != FM_EAGAIN; });
  }
  st_.finalizing = true;
  // 2. Deliver everything sent to us before the senders' BYE; complete our own sends.  Bounded:
  // past the peer time-out it gives up, saying what it still waited for.
  std::uint32_t spins = 0;
  const int drain_rc =
      rx_.wait_until(size, Wait{.what = "FM_finalize", .timed = true, .drain = true}, [&] {
        bool done = st_.tx_outstanding == 0 && !rx_.anything_ready();
        for (unsigned p = 0; p < size && done; ++p)
          done = p == st_.rank || st_.peers[p].link.failed || st_.peers[p].rx.bye;
        for (Lane& l : st_.lanes) done = done && l.tp->quiescent();  // all we sent acknowledged
        if (!done && ++spins > 1000) {
          timespec ts{0, 50000};
          nanosleep(&ts, nullptr);
        }
        return done;
      });
  if (drain_rc == FM_ETIMEDOUT) {
    std::string waiting;
    for (unsigned p = 0; p < size; ++p) {
      const Peer& q = st_.peers[p];
      if (p == st_.rank || q.link.failed) continue;
      if (!q.rx.bye) waiting += " no BYE from node " + std::to_string(p) + ";";
      if (!q.rx.q.empty() || q.rx.state != PeerRx::kIdle)
        waiting += " node " + std::to_string(p) + "'s messages not all handled (state " +
                   std::to_string(static_cast<int>(q.rx.state)) + ");";
      if (q.tx.pend_count != 0)
        waiting += " answers or sends owed to node " + std::to_string(p) + ";";
    }
    bool quiet = true;
    for (Lane& l : st_.lanes) quiet = quiet && l.tp->quiescent();
    fail(FM_ETIMEDOUT, "FM_finalize: gave up after %u ms: %u sends incomplete,%s%s",
         st_.cfg.peer_timeout_ms, st_.tx_outstanding, waiting.c_str(),
         quiet ? "" : " transport not quiescent");
    FM_ERROR("%s", last_error());
  }
  // Transports with their own reliability keep answering until every peer says it needs nothing
  // more (a peer whose last acknowledgements were lost still retransmits and must hear from us);
  // bounded by the peer time-out for a peer that died meanwhile.
  for (Lane& l : st_.lanes) l.tp->begin_close();
  spins = 0;
  (void)rx_.wait_until(
      size, Wait{.what = "FM_finalize (closing)", .timed = true, .handlers = false}, [&] {
        bool closed = true;
        for (Lane& l : st_.lanes) closed = closed && l.tp->peers_closed();
        if (!closed && ++spins > 1000) {
          timespec ts{0, 50000};
          nanosleep(&ts, nullptr);
        }
        return closed;
      });
  bool any_failed = false;
  for (const Peer& q : st_.peers) any_failed = any_failed || q.link.failed;
  int rc = drain_rc == FM_ETIMEDOUT ? FM_ETIMEDOUT : FM_SUCCESS;
  if (st_.cfg.stats) print_stats(any_failed);
  // 3. Launcher barrier (skipped after a failure: the dead never arrive).
  if (st_.boot != nullptr) {
    if (!any_failed && rc == FM_SUCCESS && st_.boot->size() > 1) rc = st_.boot->barrier();
    const int rc2 = st_.boot->finalize();
    if (rc == FM_SUCCESS) rc = rc2;
  }
  st_.closed = true;
  st_.idle->finalize();
  st_.lanes.clear();
  return rc;
}

// ------------------------------------------------------------------------------------------------
// progress thread

void Context::start_progress_thread(int mode) {
  if (threaded_ || st_.closed) return;
  progress_mode_ = mode;
  threaded_ = true;
  stop_progress_ = false;
  progress_thread_ = std::thread([this] { progress_thread_main(); });
}

void Context::stop_progress_thread() {
  if (!progress_thread_.joinable()) return;
  stop_progress_ = true;
  st_.idle->kick();  // a parked thread wakes at once
  progress_thread_.join();
  threaded_ = false;
}

// Extracts whenever the program is not inside FM; failures are left for the program's own calls
// to report.  Handlers run on this thread too, one at a time with the program's FM calls.
// Between extractions it naps (FM_PROGRESS_US); after kParkRounds naps in a row that found
// nothing to do while the program stayed out of FM, it parks: a progress thread that only
// napped cost an idle process 7-10 % of a CPU (10^4 wake-ups a second), taken from the
// program's own computation on a fully used node.
void Context::progress_thread_main() {
  ScopedCurrent sc(this);
  t_async_only = progress_mode_ == 2;  // waits on this thread, too
  constexpr unsigned kParkRounds = 16;
  unsigned idle_rounds = 0;
  while (!stop_progress_.load(std::memory_order_relaxed)) {
    bool busy = false, parked = false;
    {
      std::unique_lock<std::recursive_mutex> lk(api_mu_, std::try_to_lock);
      if (!lk.owns_lock()) {
        idle_rounds = 0;  // the program is in FM: it progresses, and will call again soon
        // Asleep there, for as long as nothing arrives: wait until it leaves FM instead of
        // napping (its release of the lock then costs it one wake-up, at the end of a sleep
        // anyway), and let go at once, so that its next call finds the lock free.
        if (st_.idle->program_asleep()) {
          lk.lock();
          lk.unlock();
        }
      } else if (!st_.closed && !st_.finalizing && rx_.progress() >= 0) {
        const bool async_only = progress_mode_ == 2;
        busy = rx_.dispatch(SIZE_MAX, async_only) > 0;
        if (tx_.any_pending()) tx_.drain(async_only);
        if ((++extract_calls_ & 63) == 0 || g_peer_event) live_.check();
        if (busy) {
          idle_rounds = 0;
        } else if (++idle_rounds >= kParkRounds && st_.cfg.progress_us > 0) {
          parked = park(lk);  // and again next round if that finds nothing either
        }
      }
    }
    if (!busy && !parked && st_.cfg.progress_us > 0) {
      timespec ts{0, static_cast<long>(st_.cfg.progress_us) * 1000};
      nanosleep(&ts, nullptr);
    }
  }
}

// Phase 2 for the progress thread (Idle::park_* say what it shares with the program's waits):
// armed quietly (the status page keeps saying what the program does), then, with the lock let go
// of, asleep on the doorbell, the lanes' wait objects and the kick until one fires, for at most
// 10 ms (what a wake-up missed for any reason costs).  The program's calls meanwhile take the lock
// at once: parking costs them nothing.  Only when every lane can wake it (a wait object, or the
// doorbell, which peers ring unless FM_IDLE=poll), nothing is queued (an unmarked message in mode
// 2 waits for the program) and nothing waits to go out.
bool Context::park(std::unique_lock<std::recursive_mutex>& lk) {
  constexpr int kMaxParkMs = 10;
  Idle& idle = *st_.idle;
  if (!idle.can_park() || !rx_.lanes_wake() || rx_.anything_ready() || tx_.any_pending())
    return false;  // (before arm(), whose barrier is a system call: a message may wait long)
  idle.arm(false);
  pollfd fds[8];
  nfds_t n = 0;
  if (rx_.progress() < 0 || rx_.anything_ready() || tx_.any_pending() || live_.unreported() ||
      !rx_.wait_fds(fds, 8, &n)) {
    idle.park_end();
    return false;
  }
  idle.park_begin();  // under the lock: the program's next call sees it
  lk.unlock();
  idle.park_sleep(fds, n, kMaxParkMs);
  lk.lock();  // the program may be in a wait: then after it
  idle.park_end();
  parks_.fetch_add(1, std::memory_order_relaxed);
  live_.check();
  return true;
}

// ------------------------------------------------------------------------------------------------
// statistics

// FM_STATS=1: this node's per-peer table on stderr, and on node 0 the job's traffic matrix
// (payload bytes sent, messages plus one-sided, row = sender), gathered through the launcher.
void Context::print_stats(bool any_failed) {
  std::string out;
  char line[320];
  std::snprintf(line, sizeof line,
                "fm stats, node %u of %u:\n%6s %10s %14s %10s %14s %8s %8s %8s %12s %12s %8s %14s "
                "%8s %12s %10s\n",
                st_.rank, st_.size, "peer", "msgs_out", "bytes_out", "msgs_in", "bytes_in",
                "stalls", "full", "fsleeps", "zcopy_in", "zshared", "rma_out", "rma_bytes_out",
                "rma_in", "handler_ms", "retrans");
  out += line;
  for (unsigned p = 0; p < st_.size; ++p) {
    const PeerStats& q = st_.peers[p].stats;
    const RmaEngine::Counters& r = rma_.counters(p);
    std::snprintf(line, sizeof line,
                  "%6u %10llu %14llu %10llu %14llu %8llu %8llu %8llu %12llu %12llu %8llu %14llu "
                  "%8llu %12.3f %10llu\n",
                  p, (unsigned long long)q.msgs_out, (unsigned long long)q.bytes_out,
                  (unsigned long long)q.msgs_in, (unsigned long long)q.bytes_in,
                  (unsigned long long)q.credit_stalls, (unsigned long long)q.full,
                  (unsigned long long)q.full_sleeps, (unsigned long long)q.zcopy_bytes,
                  (unsigned long long)shared_copy_bytes(p), (unsigned long long)r.ops_out,
                  (unsigned long long)r.bytes_out, (unsigned long long)r.ops_in, q.handler_ns / 1e6,
                  (unsigned long long)retransmissions(p));
    out += line;
  }
  std::fputs(out.c_str(), stderr);
  bootstrap::Bootstrap* boot = st_.boot.get();
  if (boot == nullptr || boot->size() < 2 || any_failed) return;
  std::string row;
  for (unsigned p = 0; p < st_.size; ++p)
    row +=
        (p ? "," : "") + std::to_string(st_.peers[p].stats.bytes_out + rma_.counters(p).bytes_out);
  if (row.size() > 1000) {  // beyond one PMI value: no matrix
    if (st_.rank == 0) std::fputs("fm stats: traffic matrix omitted (too many nodes)\n", stderr);
    return;
  }
  if (boot->put("fm-st-" + std::to_string(st_.rank), row) != FM_SUCCESS ||
      boot->fence() != FM_SUCCESS)
    return;
  if (st_.rank != 0) return;
  out = "fm stats: traffic matrix, payload bytes from row node to column node\n      ";
  for (unsigned c = 0; c < st_.size; ++c) {
    std::snprintf(line, sizeof line, " %12u", c);
    out += line;
  }
  out += "\n";
  for (unsigned r = 0; r < st_.size; ++r) {
    std::string v;
    if (boot->get("fm-st-" + std::to_string(r), &v) != FM_SUCCESS) return;
    std::snprintf(line, sizeof line, "%6u", r);
    out += line;
    std::size_t pos = 0;
    for (unsigned c = 0; c < st_.size; ++c) {
      const std::size_t end = v.find(',', pos);
      std::snprintf(line, sizeof line, " %12s", v.substr(pos, end - pos).c_str());
      out += line;
      pos = end == std::string::npos ? v.size() : end + 1;
    }
    out += "\n";
  }
  std::fputs(out.c_str(), stderr);
}

// ------------------------------------------------------------------------------------------------
// in-process jobs over the loopback transport (unit tests)

transport::ReliableParams Context::reliable_params(const Config& cfg, unsigned rank, unsigned size,
                                                   std::uint32_t auto_min_rto_us) {
  transport::ReliableParams rp;
  rp.rank = rank;
  rp.size = size;
  rp.peer_timeout_ms = cfg.peer_timeout_ms;
  rp.min_rto_us = cfg.rto_min_us != 0 ? cfg.rto_min_us : auto_min_rto_us;
  rp.initial_rto_us = std::max(rp.initial_rto_us, rp.min_rto_us);
  return rp;
}

std::vector<std::unique_ptr<Context>> Context::create_loopback_job(
    unsigned n, const Config& cfg, int* rc, transport::LoopbackFabric** fab,
    const transport::FaultParams* fault, int fault_node, bool reliable, bool shm) {
  std::vector<std::unique_ptr<Context>> job;
  std::vector<Idle*> pages(n, nullptr);
  auto fabric = shm ? nullptr : transport::make_loopback_fabric(n);
  if (fab != nullptr) *fab = fabric.get();
  // every node's lane first: shm peers must know each other's addresses before any sends
  std::vector<transport::Stack> stacks(n);
  std::vector<std::vector<std::byte>> addrs(n);
  for (unsigned r = 0; r < n && n > 1; ++r) {
    transport::StackParams sp;
    sp.open.spec = transport::find_provider(shm ? "shm" : "loopback");
    sp.open.rank = r;
    sp.open.size = n;
    sp.open.packet_size = cfg.packet();
    sp.open.shm_ring = cfg.shm_ring;
    sp.open.shm_cma = cfg.shm_cma == "off" ? 0 : cfg.shm_cma == "on" ? 1 : -1;
    sp.open.shm_membarrier = cfg.shm_membarrier == "off" ? 0 : 1;
    sp.open.shm_sweep = cfg.shm_sweep;
    sp.open.shm_split = cfg.shm_split;
    sp.peers = n - 1;
    sp.credits = cfg.window(false);
    sp.control_reserve = kControlReserve;
    sp.loopback = fabric;
    transport::FaultParams fp;
    if (fault != nullptr && (fault_node < 0 || static_cast<unsigned>(fault_node) == r)) {
      fp = *fault;
      fp.seed += r;  // each node its own stream
      sp.fault = &fp;
    }
    sp.force_reliable = reliable;
    // the nodes are threads sharing the cores: the floor for shared CPUs
    sp.reliable = reliable_params(cfg, r, n, 2000);
    if ((*rc = transport::open_stack(sp, &stacks[r])) != FM_SUCCESS) return {};
    addrs[r] = stacks[r].tp->address();
  }
  for (unsigned r = 0; r < n && n > 1; ++r) {
    std::vector<std::vector<std::byte>> others = addrs;
    others[r].clear();
    if ((*rc = stacks[r].tp->insert_peers(others)) != FM_SUCCESS) return {};
  }
  for (unsigned r = 0; r < n; ++r) {
    Wiring w;
    w.cfg = cfg;
    w.rank = r;
    w.size = n;
    w.fabric = fabric;
    if (n > 1) {
      Lane lane;
      lane.tp = std::move(stacks[r].tp);
      lane.packet = stacks[r].packet;
      lane.window = stacks[r].window;
      lane.kind = shm ? 0 : 1;
      lane.zcopy = shm ? cfg.zcopy_shm : 0;
      w.lanes.push_back(std::move(lane));
    }
    w.peer_lane.assign(n, 0);
    w.peer_lane[r] = -1;
    w.windows.assign(n, n > 1 ? stacks[r].window : cfg.window(false));
    w.peer_packet.assign(n, n > 1 ? stacks[r].packet : cfg.packet());
    w.hosts.assign(n, "loopback");
    w.pids.assign(n, static_cast<int>(getpid()));  // every node is this process
    if (n > 1) {  // a status page and a doorbell each, rung by the others as on one host
      // In-process nodes share the CPUs with the test itself: waits sleep only when told to
      // (FM_IDLE=block), never because the load average says the host is busy.
      Config icfg = cfg;
      if (icfg.idle == "auto") icfg.idle = "poll";
      w.idle = std::make_unique<Idle>();
      if (w.idle->create(icfg, r, n) == FM_SUCCESS) {
        std::vector<int> local(n);
        for (unsigned i = 0; i < n; ++i) local[i] = static_cast<int>(i);
        w.idle->describe(local, 0, false);
        pages[r] = w.idle.get();
      }
    }
    auto c = create(std::move(w), rc);
    if (c == nullptr) return {};
    job.push_back(std::move(c));
  }
  for (Idle* a : pages)
    for (unsigned r = 0; r < n; ++r)
      if (a != nullptr && pages[r] != nullptr && pages[r] != a)
        (void)a->attach(pages[r]->name(), r);
  for (auto& c : job) c->connected();
  return job;
}

}  // namespace fm::core
