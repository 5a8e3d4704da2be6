/* hello_fm.c - an FM program built against an installed FM (pkg-config, find_package, static).
 * Every node sends "hello from N" to the next; each handler checks what it got.  Prints
 * "hello_fm: node X of N: PASS", exits 1 on any mismatch. */
#include <fm/fm.h>
#include <stdio.h>
#include <string.h>

static int got = 0, bad = 0;

static int hello(FM_stream* s, unsigned sender) {
  char buf[64] = {0}, want[64];
  long n = FM_receive(buf, s, FM_stream_length(s));
  snprintf(want, sizeof want, "hello from %u", sender);
  if (n != (long)strlen(want) + 1 || strcmp(buf, want) != 0) {
    fprintf(stderr, "hello_fm: node %u: got '%s' (%ld bytes) from %u\n", FM_nodeid(), buf, n,
            sender);
    bad = 1;
  }
  got = 1;
  return FM_CONTINUE;
}

int main(void) {
  if (FM_register_handler(1, hello) != 1 || FM_initialize() != FM_SUCCESS) {
    fprintf(stderr, "hello_fm: %s\n", FM_last_error());
    return 1;
  }
  char msg[64];
  snprintf(msg, sizeof msg, "hello from %u", FM_nodeid());
  if (FM_send((FM_nodeid() + 1) % FM_numnodes(), 1, msg, strlen(msg) + 1) != FM_SUCCESS) {
    fprintf(stderr, "hello_fm: %s\n", FM_last_error());
    return 1;
  }
  while (!got) {
    if (FM_extract_wait(SIZE_MAX, 10000) <= 0 && !got) {
      fprintf(stderr, "hello_fm: node %u: nothing arrived: %s\n", FM_nodeid(), FM_last_error());
      return 1;
    }
  }
  unsigned me = FM_nodeid(), n = FM_numnodes();
  if (FM_finalize() != FM_SUCCESS) return 1;
  if (!bad) printf("hello_fm: node %u of %u: PASS\n", me, n);
  return bad;
}
