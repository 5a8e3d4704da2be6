/* fm_demo - FM ping-pong latency and streaming bandwidth between two processes.
 *
 *   mpiexec.hydra -n 2 -genv FM_PROVIDER shm ./fm_demo
 *
 * Node 0 sends, node 1 echoes: the ping-pong is carried entirely by handlers (a handler replies
 * from inside itself).  Bandwidth: node 0 streams a window of messages, node 1 acknowledges the
 * window.  Prints one row per size: one-way latency (us) and bandwidth (MB/s, MB = 10^6 bytes). */
#include <fm/fm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { H_PING = 1, H_PONG = 2, H_DATA = 3, H_ACK = 4 };

static char* buf;
static volatile unsigned pongs, acks, data_msgs;
static size_t pending_echo; /* an echo refused inside the handler, sent by the main loop */
static int echo_pending;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int ping(FM_stream* s, unsigned sender) {
  size_t n = FM_stream_length(s);
  if (FM_receive(buf, s, n) != (long)n) return FM_CONTINUE;
  /* Reply from inside the handler.  Inside a handler FM never blocks: a message it cannot
   * guarantee now (FM_EAGAIN), or one larger than the credit window (FM_ELENGTH), is refused,
   * and the main loop sends it instead. */
  int rc = FM_send(sender, H_PONG, buf, n);
  if (rc == FM_EAGAIN || rc == FM_ELENGTH) {
    pending_echo = n;
    echo_pending = 1;
  } else if (rc != FM_SUCCESS) {
    fprintf(stderr, "echo failed: %s\n", FM_last_error());
    exit(1);
  }
  return FM_CONTINUE;
}

/* Extracts once, then sends an echo the handler had to leave to the main loop. */
static long serve(void) {
  long r = FM_extract(SIZE_MAX);
  if (r >= 0 && echo_pending) {
    echo_pending = 0;
    int rc = FM_send(0, H_PONG, buf, pending_echo);
    if (rc != FM_SUCCESS) return rc;
  }
  return r;
}

static int pong(FM_stream* s, unsigned sender) {
  (void)sender;
  size_t n = FM_stream_length(s);
  FM_receive(buf, s, n);
  ++pongs;
  return FM_CONTINUE;
}

static int data(FM_stream* s, unsigned sender) {
  (void)sender;
  size_t n = FM_stream_length(s);
  FM_receive(buf, s, n);
  ++data_msgs;
  return FM_CONTINUE;
}

static int ack(FM_stream* s, unsigned sender) {
  (void)s;
  (void)sender;
  ++acks;
  return FM_CONTINUE;
}

static int check(int rc, const char* what) {
  if (rc < 0) {
    fprintf(stderr, "fm_demo: %s: %s (%s)\n", what, FM_strerror(rc), FM_last_error());
    FM_abort(1, what); /* the whole job ends, through the launcher (also after FM_initialize) */
  }
  return rc;
}

int main(void) {
  const size_t max = 1u << 22;
  const unsigned window = 32;
  buf = malloc(max);
  memset(buf, 'x', max);
  FM_register_handler(H_PING, ping);
  FM_register_handler(H_PONG, pong);
  FM_register_handler(H_DATA, data);
  FM_register_handler(H_ACK, ack);
  check(FM_initialize(), "FM_initialize");
  unsigned me = FM_nodeid(), n = FM_numnodes();
  if (n != 2) {
    if (me == 0) fprintf(stderr, "fm_demo: run with 2 processes (mpiexec.hydra -n 2 ./fm_demo)\n");
    FM_finalize();
    return 2;
  }
  if (me == 0)
    printf(
        "# fm_demo: provider %s, packet payload %zu B; latency = round trip / 2; MB = 10^6 B\n"
        "%10s %8s %12s %12s\n",
        FM_transport_name(1), FM_packet_payload(), "bytes", "iters", "latency_us", "bw_MB/s");
  for (size_t size = 8; size <= max; size *= 8) {
    unsigned iters = size <= 4096 ? 10000 : (size <= 65536 ? 2000 : 200);
    unsigned warm = iters / 10;
    double lat = 0, bw = 0;
    /* ping-pong */
    if (me == 0) {
      double t0 = 0;
      for (unsigned i = 0; i < iters + warm; ++i) {
        if (i == warm) t0 = now_us();
        unsigned want = pongs + 1;
        check(FM_send(1, H_PING, buf, size), "FM_send");
        while (pongs < want) check((int)FM_extract(SIZE_MAX), "FM_extract");
      }
      lat = (now_us() - t0) / iters / 2;
    }
    /* node 1 echoes pings inside its handler while it extracts in the loop below */
    /* streaming bandwidth: windows of messages, one ack per window */
    unsigned wins = size >= (1u << 20) ? 20 : 100;
    if (me == 0) {
      double t0 = now_us();
      for (unsigned w = 0; w < wins; ++w) {
        for (unsigned i = 0; i < window; ++i) check(FM_send(1, H_DATA, buf, size), "FM_send");
        while (acks < (w + 1)) check((int)FM_extract(SIZE_MAX), "FM_extract");
      }
      double t = now_us() - t0;
      bw = (double)size * window * wins / t;
      printf("%10zu %8u %12.2f %12.1f\n", size, iters, lat, bw);
      fflush(stdout);
    } else {
      for (unsigned w = 0; w < wins; ++w) {
        while (data_msgs < (w + 1) * window) check((int)serve(), "FM_extract");
        check(FM_send(0, H_ACK, NULL, 0), "FM_send ack");
      }
      data_msgs = 0;
    }
    if (me == 0) acks = 0;
  }
  check(FM_finalize(), "FM_finalize");
  free(buf);
  return 0;
}
