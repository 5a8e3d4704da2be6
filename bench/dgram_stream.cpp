// dgram_stream - the ceiling of a libfabric datagram provider: one thread streams datagrams as
// fast as the provider takes them, another receives them, each on its own endpoint of the same
// provider on this host.  No reliability, no flow control: what is not received is counted as
// lost.  This is the reference for FM's bandwidth over udp (fi_pingpong -e dgram is a ping-pong
// limited to one datagram per message, so it measures latency, not streaming).
//
//   dgram_stream [-p udp] [-S datagram_bytes] [-n datagrams] [-r receive_depth]
//
// Prints one line: provider, datagram size, sent, received, loss %, seconds, received MB/s
// (MB = 10^6 bytes) and datagrams per second.
#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_errno.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what, int rc) {
  std::fprintf(stderr, "dgram_stream: %s: %s\n", what, fi_strerror(rc < 0 ? -rc : rc));
  std::exit(rc == -FI_ENODATA ? 77 : 1);
}

struct Ep {
  fid_fabric* fabric = nullptr;
  fid_domain* domain = nullptr;
  fid_av* av = nullptr;
  fid_cq* cq = nullptr;
  fid_ep* ep = nullptr;
};

void open_ep(fi_info* info, Ep* e) {
  int rc;
  if ((rc = fi_fabric(info->fabric_attr, &e->fabric, nullptr)) != 0) die("fi_fabric", rc);
  if ((rc = fi_domain(e->fabric, info, &e->domain, nullptr)) != 0) die("fi_domain", rc);
  fi_av_attr av{};
  av.type = FI_AV_TABLE;
  if ((rc = fi_av_open(e->domain, &av, &e->av, nullptr)) != 0) die("fi_av_open", rc);
  fi_cq_attr cq{};
  cq.format = FI_CQ_FORMAT_CONTEXT;
  cq.size = 4096;
  cq.wait_obj = FI_WAIT_NONE;
  if ((rc = fi_cq_open(e->domain, &cq, &e->cq, nullptr)) != 0) die("fi_cq_open", rc);
  if ((rc = fi_endpoint(e->domain, info, &e->ep, nullptr)) != 0) die("fi_endpoint", rc);
  if ((rc = fi_ep_bind(e->ep, &e->av->fid, 0)) != 0) die("fi_ep_bind(av)", rc);
  if ((rc = fi_ep_bind(e->ep, &e->cq->fid, FI_TRANSMIT | FI_RECV)) != 0) die("fi_ep_bind(cq)", rc);
  if ((rc = fi_enable(e->ep)) != 0) die("fi_enable", rc);
}

}  // namespace

int main(int argc, char** argv) {
  std::string prov = "udp";
  std::size_t size = 0;  // 0: the provider's largest datagram
  long count = 200000;
  int depth = 512;
  for (int c; (c = getopt(argc, argv, "p:S:n:r:h")) != -1;) {
    switch (c) {
      case 'p':
        prov = optarg;
        break;
      case 'S':
        size = std::strtoul(optarg, nullptr, 10);
        break;
      case 'n':
        count = std::strtol(optarg, nullptr, 10);
        break;
      case 'r':
        depth = std::atoi(optarg);
        break;
      default:
        std::fprintf(stderr, "usage: dgram_stream [-p udp] [-S bytes] [-n datagrams] [-r depth]\n");
        return 2;
    }
  }
  if (count <= 0 || depth <= 0) {
    std::fprintf(stderr, "dgram_stream: -n and -r must be positive\n");
    return 2;
  }
  fi_info* hints = fi_allocinfo();
  hints->ep_attr->type = FI_EP_DGRAM;
  hints->caps = FI_MSG;
  hints->mode = FI_CONTEXT | FI_CONTEXT2;
  hints->domain_attr->av_type = FI_AV_TABLE;
  hints->fabric_attr->prov_name = strdup(prov.c_str());
  fi_info* info = nullptr;
  int rc = fi_getinfo(FI_VERSION(1, 15), "127.0.0.1", nullptr, 0, hints, &info);
  if (rc != 0) rc = fi_getinfo(FI_VERSION(1, 15), nullptr, nullptr, 0, hints, &info);
  if (rc != 0) die("fi_getinfo", rc);
  const std::size_t max = info->ep_attr->max_msg_size;
  if (size == 0) size = max;
  if (size > max) {
    std::fprintf(stderr, "dgram_stream: -S %zu exceeds %s's %zu-byte datagrams\n", size,
                 prov.c_str(), max);
    return 2;
  }
  Ep tx, rx;
  open_ep(info, &tx);
  open_ep(info, &rx);
  char addr[256];
  std::size_t alen = sizeof addr;
  if ((rc = fi_getname(&rx.ep->fid, addr, &alen)) != 0) die("fi_getname", rc);
  fi_addr_t dest = FI_ADDR_UNSPEC;
  if (fi_av_insert(tx.av, addr, 1, &dest, 0, nullptr) != 1) die("fi_av_insert", -FI_EINVAL);

  std::vector<char> rbufs(static_cast<std::size_t>(depth) * size);
  std::vector<fi_context2> rctx(static_cast<std::size_t>(depth));
  for (int i = 0; i < depth; ++i)
    if ((rc = static_cast<int>(fi_recv(rx.ep, rbufs.data() + std::size_t(i) * size, size, nullptr,
                                       FI_ADDR_UNSPEC, &rctx[std::size_t(i)]))) != 0)
      die("fi_recv", rc);

  std::atomic<bool> sending_done{false};
  std::atomic<long> received{0};
  Clock::time_point t_last_rx = Clock::now();
  std::thread receiver([&] {
    fi_cq_entry c[64];
    auto idle_since = Clock::now();
    for (;;) {
      const ssize_t n = fi_cq_read(rx.cq, c, 64);
      if (n > 0) {
        for (ssize_t k = 0; k < n; ++k) {  // repost where it came from
          auto* ctx = static_cast<fi_context2*>(c[k].op_context);
          const std::size_t i = static_cast<std::size_t>(ctx - rctx.data());
          (void)fi_recv(rx.ep, rbufs.data() + i * size, size, nullptr, FI_ADDR_UNSPEC, ctx);
        }
        received.fetch_add(n, std::memory_order_relaxed);
        t_last_rx = idle_since = Clock::now();
        if (received.load(std::memory_order_relaxed) >= count) return;
      } else if (sending_done.load(std::memory_order_acquire) &&
                 Clock::now() - idle_since > std::chrono::milliseconds(200)) {
        return;  // the rest was lost
      }
    }
  });

  std::vector<char> sbuf(size, 'x');
  std::vector<fi_context2> sctx(1024);
  fi_cq_entry c[64];
  long sent = 0, outstanding = 0;
  const auto t0 = Clock::now();
  while (sent < count) {
    ssize_t r = fi_send(tx.ep, sbuf.data(), size, nullptr, dest, &sctx[std::size_t(sent % 1024)]);
    if (r == 0) {
      ++sent;
      ++outstanding;
    } else if (r != -FI_EAGAIN) {
      die("fi_send", static_cast<int>(r));
    }
    if (r == -FI_EAGAIN || outstanding >= 512) {
      const ssize_t n = fi_cq_read(tx.cq, c, 64);
      if (n > 0) outstanding -= n;
    }
  }
  while (outstanding > 0) {
    const ssize_t n = fi_cq_read(tx.cq, c, 64);
    if (n > 0) outstanding -= n;
  }
  sending_done.store(true, std::memory_order_release);
  receiver.join();
  const double secs = std::chrono::duration<double>(t_last_rx - t0).count();
  const long got = received.load();
  std::printf("%s,%zu,%ld,%ld,%.2f,%.4f,%.1f,%.0f\n", prov.c_str(), size, sent, got,
              100.0 * double(sent - got) / double(sent), secs,
              double(got) * double(size) / secs / 1e6, double(got) / secs);
  for (Ep* e : {&tx, &rx}) {
    fi_close(&e->ep->fid);
    fi_close(&e->cq->fid);
    fi_close(&e->av->fid);
    fi_close(&e->domain->fid);
    fi_close(&e->fabric->fid);
  }
  fi_freeinfo(info);
  fi_freeinfo(hints);
  return 0;
}
