// policy.cpp - who gets a boost, when, and for how long.
//
// dcs (demand-based coscheduling, Sobalvarro et al., with Nagar et al.'s periodic boost): each
// tick reads the pages and boosts a rank that is stalled (packets pending at this tick and the
// last, none taken in between) and is waiting for the CPU rather than using it: spinning or
// blocked in FM, or computing while its run-queue delay grew over the last tick (/proc's state
// letter cannot tell running from runnable; schedstat's run_delay can).  Ranks that keep up are
// left to the kernel and FM's two-phase waits: boosting them cost more than it gained here.  A
// boost lasts at most --boost-us, ends early once nothing is pending and the rank computes or
// sleeps, and is charged to its job and its user: neither may hold more than its share (window x
// CPUs / sharers) over the sliding window.  A rank whose boost ran to its bound without draining
// waits one bound before the next, so a stuck rank cannot hold a CPU.
//
// gang: slice k = CLOCK_REALTIME / slice; its owner is the local job with the least
// splitmix64(job ^ k), so hosts running the same jobs agree without a message.  The owner's
// ranks are boosted (renewed every --boost-us), everyone else's demoted.
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <map>

#include "daemon.hpp"
#include "proto.hpp"

namespace fm::dcsd {

namespace {

template <class T>
T load(T& word) {
  return std::atomic_ref<T>(word).load(std::memory_order_relaxed);
}
template <class T>
void store(T& word, T v) {
  std::atomic_ref<T>(word).store(v, std::memory_order_relaxed);
}

std::int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

std::uint32_t page_state(const Client& c) {
  const std::uint32_t s = load(c.page->state);
  return s <= FM_DCS_FINALIZED
             ? s
             : std::uint32_t{FM_DCS_COMPUTING};  // garbage: assume it needs nothing
}

void compute_pending(Daemon& d) {
  for (auto& [key, j] : d.jobs) {
    for (Client* r : j.by_local) {
      if (r == nullptr) continue;
      std::uint64_t sum = 0, taken = 0;
      for (const Client* s : j.by_local) {
        if (s == nullptr) continue;
        taken += load(r->page->taken[s->msg.local_rank]);
        // local ranks are the recorded ones, checked < local_size <= FM_DCS_MAX_LOCAL
        sum += pending_from(load(s->page->sent[r->msg.local_rank]),
                            load(r->page->taken[s->msg.local_rank]));
        if (sum > kMaxPending) sum = kMaxPending;
      }
      r->pending = sum;
      r->taken = taken;
    }
  }
}

// Is a computing rank with packets pending kept off the CPU?  Its run-queue wait grew since the
// last tick while it is runnable.
bool waiting_for_cpu(Client& c) {
  char st = 0;
  std::uint64_t start = 0, run = 0, delay = 0;
  if (!read_task(c.msg.pid, c.msg.tid, &st, &start) || st != 'R') {
    c.have_delay = false;
    return false;
  }
  if (!read_schedstat(c.msg.pid, c.msg.tid, &run, &delay)) return false;
  const bool grew = c.have_delay && delay > c.run_delay;
  c.run_delay = delay;
  c.have_delay = true;
  return grew;
}

void tick_dcs(Daemon& d, std::int64_t now) {
  compute_pending(d);
  const std::int64_t window = d.opt.window_ms * 1000000ll;
  const std::int64_t bound = d.opt.boost_us * 1000ll;
  const std::int64_t tick = d.opt.tick_us * 1000ll;
  // end boosts that are due
  for (auto& [id, cp] : d.clients) {
    Client& c = *cp;
    if (!c.registered || !c.boosted) continue;
    const std::uint32_t st = page_state(c);
    if (now >= c.deadline) {
      demote(d, c, now, true);
      if (c.pending > 0) c.cooldown_until = now + bound;
    } else if (st == FM_DCS_FINALIZED ||
               (c.pending == 0 && (st == FM_DCS_COMPUTING || st == FM_DCS_BLOCKED))) {
      demote(d, c, now, true);
    }
  }
  // what each job and user has used or holds of its share
  std::map<JobKey, std::int64_t> job_used;
  std::map<uid_t, std::int64_t> uid_used;
  for (auto& [key, j] : d.jobs) job_used[key] = j.usage.spent(now, window);
  for (auto& [uid, u] : d.uid_usage) uid_used[uid] = u.spent(now, window);
  for (auto& [id, cp] : d.clients) {
    const Client& c = *cp;
    if (!c.registered || !c.boosted) continue;
    // spent so far inside the window, and the rest up to its deadline: committed
    const std::int64_t held = c.deadline - std::max(c.boost_start, now - window);
    job_used[c.job->key] += held;
    uid_used[c.uid] += held;
  }
  std::map<uid_t, int> uids;
  for (auto& [key, j] : d.jobs) uids[key.uid] = 1;
  const std::int64_t job_budget = fair_budget_ns(window, d.topo.cpus, d.jobs.size());
  const std::int64_t uid_budget = fair_budget_ns(window, d.topo.cpus, uids.size());
  if (!contended(d, now)) return;  // every rank has a CPU: nothing to coschedule
  for (auto& [key, j] : d.jobs) {
    for (Client* cp : j.by_local) {
      if (cp == nullptr) continue;
      Client& c = *cp;
      // stalled: packets were pending at the last tick too, and it has taken none since.  A
      // rank that keeps up with its packets, however many, is left to the kernel (its waits
      // sleep and are woken by its doorbell): a boost then only costs (measured: bench/cosched.sh)
      const bool stalled = c.pending > 0 && c.prev_pending > 0 && c.taken == c.prev_taken;
      c.prev_pending = c.pending;
      c.prev_taken = c.taken;
      if (c.boosted || !stalled || now < c.cooldown_until) {
        c.have_delay = false;
        continue;
      }
      const std::uint32_t st = page_state(c);
      if (st == FM_DCS_FINALIZED) continue;
      if (st == FM_DCS_COMPUTING && !waiting_for_cpu(c)) continue;
      std::int64_t len = bound;
      len = std::min(len, job_budget - job_used[key]);
      len = std::min(len, uid_budget - uid_used[c.uid]);
      if (len < tick) continue;  // its share is spent: others' turn
      boost(d, c, now, now + len);
      if (c.boosted) {
        job_used[key] += len;
        uid_used[c.uid] += len;
      }
    }
  }
}

void tick_gang(Daemon& d, std::int64_t now) {
  const std::int64_t slice = d.opt.slice_ms * 1000000ll;
  const std::int64_t rt = realtime_ns();
  const std::int64_t k = rt / slice;
  const std::int64_t slice_end = now + (slice - rt % slice);
  std::vector<std::uint64_t> ids;
  std::vector<std::uint32_t> uids;
  std::vector<const Job*> js;
  for (auto& [key, j] : d.jobs) {
    ids.push_back(key.job);
    uids.push_back(static_cast<std::uint32_t>(key.uid));
    js.push_back(&j);
  }
  const int o = gang_owner(ids, uids, static_cast<std::uint64_t>(k));
  const Job* owner = o >= 0 ? js[static_cast<std::size_t>(o)] : nullptr;
  if (owner != nullptr && k != d.gang_slice) {
    d.gang_slice = k;
    if (d.opt.log_slices) logf("slice %" PRId64 " job %016" PRIx64, k, owner->key.job);
  }
  const std::int64_t bound = d.opt.boost_us * 1000ll;
  // demote first, so the owner's boosts never overlap the previous owner's
  for (auto& [id, cp] : d.clients) {
    Client& c = *cp;
    if (!c.registered || !c.boosted) continue;
    if (c.job != owner || now >= c.deadline || page_state(c) == FM_DCS_FINALIZED)
      demote(d, c, now, true);
  }
  if (owner == nullptr) return;
  for (Client* c : owner->by_local) {
    if (c == nullptr || c->boosted || page_state(*c) == FM_DCS_FINALIZED) continue;
    boost(d, *c, now, std::min(now + bound, slice_end));
  }
}

}  // namespace

void boost(Daemon& d, Client& c, std::int64_t now, std::int64_t until) {
  SchedAttr cur{};
  if (!get_attr(c.msg.tid, &cur)) return;
  // real-time or deadline already: not the daemon's to raise, nor to lower afterwards
  if (!FM_sched_fair(cur.policy)) return;
  char st = 0;
  std::uint64_t start = 0;
  // the same thread the process registered, not a tid reused since
  if (!read_task(c.msg.pid, c.msg.tid, &st, &start) || start != c.starttime) return;
  d.state.save(static_cast<unsigned>(c.slot), c.msg.pid, c.msg.tid, start, cur);
  SchedAttr rr{};
  rr.policy = SCHED_RR;
  rr.prio = static_cast<std::uint32_t>(d.opt.rt_prio);
  rr.flags = 1;  // SCHED_FLAG_RESET_ON_FORK: its children start unboosted
  if (!set_attr(c.msg.tid, rr)) {
    d.state.clear(static_cast<unsigned>(c.slot));
    return;
  }
  c.saved = cur;
  c.boosted = true;
  c.boost_start = now;
  c.deadline = until;
  ++c.boosts;
  store(c.page->boosts, static_cast<std::uint64_t>(c.boosts));
  store(c.page->boosted, 1u);
}

void demote(Daemon& d, Client& c, std::int64_t now, bool restore) {
  if (!c.boosted) return;
  if (restore) {
    char st = 0;
    std::uint64_t start = 0;
    if (read_task(c.msg.pid, c.msg.tid, &st, &start) && start == c.starttime)
      (void)set_attr(c.msg.tid, c.saved);
  }
  store(c.page->boosted, 0u);
  d.state.clear(static_cast<unsigned>(c.slot));
  c.boosted = false;
  const std::int64_t end = now > c.boost_start ? now : c.boost_start;
  c.boosted_ns += end - c.boost_start;
  c.job->usage.spans.emplace_back(c.boost_start, end);
  d.uid_usage[c.uid].spans.emplace_back(c.boost_start, end);
}

void demote_all(Daemon& d) {
  const std::int64_t now = now_ns();
  for (auto& [id, c] : d.clients)
    if (c->registered) demote(d, *c, now, true);
}

void update_host_ranks(Daemon& d) {
  const std::uint32_t contended = d.host_ranks > d.topo.cpus ? 1 : 0;
  for (auto& [id, c] : d.clients) {
    if (!c->registered) continue;
    store(c->page->host_ranks, static_cast<std::uint32_t>(d.host_ranks));
    store(c->page->host_contended, contended);
  }
}

void refresh_pending(Daemon& d) {
  compute_pending(d);
}

void policy_tick(Daemon& d) {
  const std::int64_t now = now_ns();
  if (d.opt.policy == FM_DCS_POLICY_DCS)
    tick_dcs(d, now);
  else if (d.opt.policy == FM_DCS_POLICY_GANG)
    tick_gang(d, now);
  // users with nothing left in the window are forgotten
  for (auto it = d.uid_usage.begin(); it != d.uid_usage.end();) {
    if (it->second.spent(now, d.opt.window_ms * 1000000ll) == 0 && it->second.spans.empty())
      it = d.uid_usage.erase(it);
    else
      ++it;
  }
}

bool contended(Daemon& d, std::int64_t now) {
  if (d.host_ranks > d.topo.cpus) return true;
  if (now - d.load_checked >= 100'000'000) {
    d.load_checked = now;
    if (FM_load_sample(&d.load, d.topo.cpus) >= FM_LOAD_CONTENDED)
      d.load_until = now + 2'000'000'000;
  }
  return now < d.load_until;
}

std::int64_t next_wakeup(Daemon& d) {
  if (d.host_ranks == 0 || d.opt.policy == FM_DCS_POLICY_NONE) return 0;
  const std::int64_t now = now_ns();
  std::int64_t t;
  if (d.opt.policy == FM_DCS_POLICY_DCS) {
    // uncontended, the daemon looks again every 100 ms only (it costs its clients nothing)
    t = now + (contended(d, now) ? d.opt.tick_us * 1000ll : 100'000'000ll);
  } else {
    const std::int64_t slice = d.opt.slice_ms * 1000000ll;
    t = now + (slice - realtime_ns() % slice);
  }
  for (const auto& [id, c] : d.clients)
    if (c->boosted && c->deadline < t) t = c->deadline;
  return t > 0 ? t : 1;
}

}  // namespace fm::dcsd
