/*
 * compact.c - MPI-FM's compact point-to-point sends (mpi-fm/netmod/fm/fm_send.h): small contiguous
 * sends without a send request and with a 12-byte header, matched by MPICH's generic layer like
 * every other message.  Checks, with 2 or more ranks:
 *   - the path is taken (argument "on") or not ("off", MPIR_CVAR_CH4_FM_COMPACT=0): with it, two
 *     MPI_Isend in a row return MPICH's one pre-completed request (in one of 10 tries: a send
 *     without credits falls back), without it never;
 *   - non-overtaking across the compact and the general paths: sizes around every boundary
 *     (0, 8, the general short path's 960/961, compact's 1012/1013, both sides of 16, 32 and
 *     64 KiB (eager limits), a vector type), and MPI_Issend, MPI_Bsend and persistent sends in
 *     the same stream; rounds with every receive posted first (the receiver says so) and rounds
 *     where every message is unexpected (the sender's last message, on another tag, is received
 *     first); every byte checked;
 *   - a compact send's request: MPI_Request_free, MPI_Cancel (not cancelled, still delivered);
 *   - MPI_ANY_SOURCE / MPI_ANY_TAG with the source's own order kept, status source/tag/count;
 *   - truncation (MPI_ERR_TRUNCATE) posted and unexpected, probe and matched probe counts;
 *   - an intercommunicator (the status names the remote group's rank), a send to oneself.
 * Rank 0 prints PASS when every rank passed.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank, size, failures;

#define CHECK(cond, ...)                                             \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "rank %d: %s:%d: ", rank, __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                                  \
      fprintf(stderr, "\n");                                         \
      failures++;                                                    \
    }                                                                \
  } while (0)

static unsigned char pattern(int src, int seq, int i) {
  return (unsigned char)(src * 131 + seq * 17 + i * 7 + 1);
}

static void fill(unsigned char* p, int n, int src, int seq) {
  for (int i = 0; i < n; i++) p[i] = pattern(src, seq, i);
}

static int verify(const unsigned char* p, int n, int src, int seq) {
  for (int i = 0; i < n; i++)
    if (p[i] != pattern(src, seq, i)) return i;
  return -1;
}

/* 1. which path an 8-byte MPI_Isend takes */
static void test_path(int want_compact) {
  const int tries = 10;
  char a[8] = "abcdefg", b[8] = "hijklmn", ra[8], rb[8];
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    int same = 0;
    for (int t = 0; t < tries; t++) {
      MPI_Request r[2];
      MPI_Isend(a, 8, MPI_CHAR, 1, 1, MPI_COMM_WORLD, &r[0]);
      MPI_Isend(b, 8, MPI_CHAR, 1, 1, MPI_COMM_WORLD, &r[1]);
      same += r[0] == r[1];
      MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
      CHECK(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL, "requests not freed");
    }
    if (want_compact)
      CHECK(same > 0, "%d pairs of 8-byte MPI_Isend, never MPICH's pre-completed request", tries);
    else
      CHECK(same == 0, "compact path disabled, yet %d of %d pairs shared one request", same, tries);
  } else if (rank == 1) {
    for (int t = 0; t < tries; t++) {
      MPI_Recv(ra, 8, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Recv(rb, 8, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      CHECK(memcmp(ra, a, 8) == 0 && memcmp(rb, b, 8) == 0, "wrong payloads");
    }
  }
}

/* 2. one tag, many sizes and send modes, in order */
static const int sizes[] = {0,     1,     8,     24,    959,   960,   961,   1011,
                            1012,  1013,  1024,  4096,  16383, 16384, 16385, 32767,
                            32768, 32769, 65535, 65536, 65537, 100000};
#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))
#define NMSG (NSIZES + 4) /* + a vector, an Issend, a Bsend, a persistent send */
#define MAXSZ 100000

static int msg_size(int i) {
  return i < NSIZES ? sizes[i] : i == NSIZES ? 6 * 4 : 8 + i;
}

static void test_order(void) {
  const int rounds = 4;
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    MPI_Datatype vec; /* 6 ints, stride 2: not contiguous, the general path */
    MPI_Type_vector(6, 1, 2, MPI_INT, &vec);
    MPI_Type_commit(&vec);
    int bsize = 4096 + MPI_BSEND_OVERHEAD;
    void* battach = malloc(bsize);
    MPI_Buffer_attach(battach, bsize);
    unsigned char* bufs[NMSG];
    for (int i = 0; i < NMSG; i++) bufs[i] = malloc(MAXSZ);
    MPI_Request req[NMSG], pers;
    MPI_Send_init(bufs[NMSG - 1], msg_size(NMSG - 1), MPI_BYTE, 1, 7, MPI_COMM_WORLD, &pers);
    for (int r = 0; r < rounds; r++) {
      if (r % 2 == 0) /* the receiver has posted everything */
        MPI_Recv(NULL, 0, MPI_BYTE, 1, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      for (int i = 0; i < NMSG; i++) {
        int k = r * NMSG + i, n = msg_size(i);
        if (i == NSIZES) {
          for (int j = 0; j < 12; j++) ((int*)bufs[i])[j] = j % 2 ? -1 : 1000 * k + j;
          MPI_Isend(bufs[i], 1, vec, 1, 7, MPI_COMM_WORLD, &req[i]);
          continue;
        }
        fill(bufs[i], n, 0, k);
        if (i == NSIZES + 1)
          MPI_Issend(bufs[i], n, MPI_BYTE, 1, 7, MPI_COMM_WORLD, &req[i]);
        else if (i == NSIZES + 2) {
          MPI_Bsend(bufs[i], n, MPI_BYTE, 1, 7, MPI_COMM_WORLD);
          req[i] = MPI_REQUEST_NULL;
        } else if (i == NSIZES + 3) {
          MPI_Start(&pers);
          req[i] = MPI_REQUEST_NULL;
        } else
          MPI_Isend(bufs[i], n, MPI_BYTE, 1, 7, MPI_COMM_WORLD, &req[i]);
      }
      /* odd rounds: the receiver takes this first, so the rest were unexpected */
      MPI_Send(NULL, 0, MPI_BYTE, 1, 8, MPI_COMM_WORLD);
      MPI_Waitall(NMSG, req, MPI_STATUSES_IGNORE);
      MPI_Wait(&pers, MPI_STATUS_IGNORE);
    }
    MPI_Request_free(&pers);
    for (int i = 0; i < NMSG; i++) free(bufs[i]);
    MPI_Buffer_detach(&battach, &bsize);
    free(battach);
    MPI_Type_free(&vec);
  } else if (rank == 1) {
    unsigned char* bufs[NMSG];
    for (int i = 0; i < NMSG; i++) bufs[i] = malloc(MAXSZ);
    for (int r = 0; r < rounds; r++) {
      MPI_Request req[NMSG + 1];
      MPI_Status st[NMSG + 1];
      if (r % 2 == 0) {
        for (int i = 0; i < NMSG; i++)
          MPI_Irecv(bufs[i], MAXSZ, MPI_BYTE, 0, 7, MPI_COMM_WORLD, &req[i]);
        MPI_Irecv(NULL, 0, MPI_BYTE, 0, 8, MPI_COMM_WORLD, &req[NMSG]);
        MPI_Send(NULL, 0, MPI_BYTE, 0, 9, MPI_COMM_WORLD);
        MPI_Waitall(NMSG + 1, req, st);
      } else {
        MPI_Recv(NULL, 0, MPI_BYTE, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (int i = 0; i < NMSG; i++)
          MPI_Recv(bufs[i], MAXSZ, MPI_BYTE, 0, 7, MPI_COMM_WORLD, &st[i]);
      }
      for (int i = 0; i < NMSG; i++) {
        int k = r * NMSG + i, n = msg_size(i), count = -1;
        MPI_Get_count(&st[i], MPI_BYTE, &count);
        CHECK(count == n, "round %d message %d: %d bytes, sent %d (order broken?)", r, i, count, n);
        CHECK(st[i].MPI_SOURCE == 0 && st[i].MPI_TAG == 7, "message %d: status %d/%d", k,
              st[i].MPI_SOURCE, st[i].MPI_TAG);
        if (count != n) continue;
        if (i == NSIZES) {
          for (int j = 0; j < 6; j++)
            CHECK(((int*)bufs[i])[j] == 1000 * k + 2 * j, "vector message %d, int %d", k, j);
        } else {
          int bad = verify(bufs[i], n, 0, k);
          CHECK(bad < 0, "round %d message %d (%d bytes): byte %d wrong", r, i, n, bad);
        }
      }
    }
    for (int i = 0; i < NMSG; i++) free(bufs[i]);
  }
}

/* 2b. a compact send's request freed at once, or cancelled: the message arrives either way */
static void test_request_ops(void) {
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    int x = 11, y = 12;
    MPI_Request r;
    MPI_Isend(&x, 1, MPI_INT, 1, 30, MPI_COMM_WORLD, &r);
    MPI_Request_free(&r);
    CHECK(r == MPI_REQUEST_NULL, "MPI_Request_free left the handle");
    MPI_Isend(&y, 1, MPI_INT, 1, 31, MPI_COMM_WORLD, &r);
    MPI_Cancel(&r);
    MPI_Status st;
    MPI_Wait(&r, &st);
    int cancelled = -1;
    MPI_Test_cancelled(&st, &cancelled);
    CHECK(cancelled == 0, "a sent compact message reported cancelled");
  } else if (rank == 1) {
    int x = 0, y = 0;
    MPI_Recv(&x, 1, MPI_INT, 0, 30, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Recv(&y, 1, MPI_INT, 0, 31, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(x == 11 && y == 12, "freed/cancelled sends delivered %d, %d", x, y);
  }
}

/* 3. every other rank sends to rank 0 with its own tags; ANY_SOURCE / ANY_TAG receives */
static void test_any(void) {
  const int per = 200;
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    int* next = calloc(size, sizeof(int));
    for (int m = 0; m < per * (size - 1); m++) {
      unsigned char b[64];
      MPI_Status st;
      int count;
      MPI_Recv(b, sizeof b, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      MPI_Get_count(&st, MPI_BYTE, &count);
      int src = st.MPI_SOURCE;
      CHECK(src > 0 && src < size, "source %d", src);
      if (src <= 0 || src >= size) continue;
      int seq = next[src]++;
      CHECK(st.MPI_TAG == 100 + seq % 5, "from %d seq %d: tag %d", src, seq, st.MPI_TAG);
      CHECK(count == 1 + seq % 40, "from %d seq %d: %d bytes", src, seq, count);
      CHECK(verify(b, count, src, seq) < 0, "from %d seq %d: payload (overtaken?)", src, seq);
    }
    free(next);
  } else {
    for (int seq = 0; seq < per; seq++) {
      unsigned char b[64];
      fill(b, 1 + seq % 40, rank, seq);
      MPI_Send(b, 1 + seq % 40, MPI_BYTE, 0, 100 + seq % 5, MPI_COMM_WORLD);
    }
  }
}

/* 4. truncation, posted and unexpected; probe and matched probe */
static void test_truncate_probe(void) {
  unsigned char b[200];
  MPI_Request r = MPI_REQUEST_NULL;
  if (rank == 1) MPI_Irecv(b, 50, MPI_BYTE, 0, 20, MPI_COMM_WORLD, &r); /* posted before */
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    fill(b, 100, 0, 1);
    MPI_Send(b, 100, MPI_BYTE, 1, 20, MPI_COMM_WORLD); /* into the posted 50 B */
    MPI_Send(b, 100, MPI_BYTE, 1, 21, MPI_COMM_WORLD); /* unexpected, into 50 B */
    fill(b, 77, 0, 2);
    MPI_Send(b, 77, MPI_BYTE, 1, 22, MPI_COMM_WORLD); /* probed */
    fill(b, 55, 0, 3);
    MPI_Send(b, 55, MPI_BYTE, 1, 23, MPI_COMM_WORLD); /* matched-probed */
  } else if (rank == 1) {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Status st;
    int rc = MPI_Wait(&r, &st), cls = -1, count = -1;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TRUNCATE, "posted 100 B into 50 B: error class %d", cls);
    MPI_Probe(0, 21, MPI_COMM_WORLD, &st); /* now it waits in the unexpected queue */
    rc = MPI_Recv(b, 50, MPI_BYTE, 0, 21, MPI_COMM_WORLD, &st);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TRUNCATE, "unexpected 100 B into 50 B: error class %d", cls);
    MPI_Probe(0, 22, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, &count);
    CHECK(count == 77 && st.MPI_TAG == 22 && st.MPI_SOURCE == 0, "probe: %d B tag %d", count,
          st.MPI_TAG);
    MPI_Recv(b, sizeof b, MPI_BYTE, 0, 22, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(verify(b, 77, 0, 2) < 0, "probed message's payload");
    MPI_Message msg;
    MPI_Mprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &msg, &st);
    MPI_Get_count(&st, MPI_BYTE, &count);
    CHECK(count == 55 && st.MPI_TAG == 23, "mprobe: %d B tag %d", count, st.MPI_TAG);
    MPI_Mrecv(b, sizeof b, MPI_BYTE, &msg, &st);
    CHECK(verify(b, 55, 0, 3) < 0, "mprobed message's payload");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

/* 5. an intercommunicator between even and odd ranks; a send to oneself */
static void test_intercomm_self(void) {
  MPI_Comm local, inter;
  int color = rank % 2;
  MPI_Comm_split(MPI_COMM_WORLD, color, rank, &local);
  MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, color ? 0 : 1, 9, &inter);
  int lrank, rsize;
  MPI_Comm_rank(local, &lrank);
  MPI_Comm_remote_size(inter, &rsize);
  if (lrank < rsize) { /* pairs: local rank i with remote rank i */
    int out = 1000 + rank, in = -1;
    MPI_Status st;
    MPI_Sendrecv(&out, 1, MPI_INT, lrank, 3, &in, 1, MPI_INT, lrank, 3, inter, &st);
    int peer_world = color ? 2 * lrank : 2 * lrank + 1;
    CHECK(in == 1000 + peer_world && st.MPI_SOURCE == lrank, "intercomm: got %d from %d", in,
          st.MPI_SOURCE);
  }
  MPI_Comm_free(&inter);
  MPI_Comm_free(&local);

  int out = 42 + rank, in = -1;
  MPI_Request r;
  MPI_Isend(&out, 1, MPI_INT, rank, 4, MPI_COMM_WORLD, &r);
  MPI_Recv(&in, 1, MPI_INT, rank, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  MPI_Wait(&r, MPI_STATUS_IGNORE);
  CHECK(in == 42 + rank, "self: got %d", in);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2 || argc < 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
    if (rank == 0) fprintf(stderr, "usage: mpiexec -n >=2 compact on|off\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  test_path(strcmp(argv[1], "on") == 0);
  test_order();
  test_request_ops();
  test_any();
  test_truncate_probe();
  test_intercomm_self();
  int total = 0;
  MPI_Reduce(&failures, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    if (total == 0)
      printf("PASS\n");
    else
      printf("FAIL: %d checks failed\n", total);
  }
  MPI_Finalize();
  return total != 0;
}
