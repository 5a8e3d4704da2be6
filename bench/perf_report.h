/*
 * perf_report.h - the one output format of the stack's benchmarks (fm_perf, mpi_perf,
 * shmem_perf), for people and for scripts alike:
 *
 *   # PROGRAM: VERSION                         perf_preamble: program, version, date, host
 *   # date: ..., host: ...
 *   # KEY: VALUE                               perf_param: every parameter that shapes a figure
 *   # test: NAME (what it measures)            perf_test: before each test's rows
 *   bytes iters lat_p50_us lat_p99_us lat_mean_us bw_MB/s msg_rate_Mmsg/s
 *   ROW ...                                    perf_row: aligned text, or CSV with --csv
 *
 * Units: MB = 10^6 bytes; latencies in microseconds, one-way (round trip / 2) unless the test
 * line says otherwise.  A figure a test does not measure is "-" in text and empty in CSV.
 * Scripts read the CSV rows (first field a number) of the section after a "# test:" line.
 */
#ifndef FM_BENCH_PERF_REPORT_H
#define FM_BENCH_PERF_REPORT_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline void perf_param(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("# ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
}

static inline void perf_preamble(const char* program, const char* version) {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  char date[64];
  const time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
  perf_param("%s: %s", program, version);
  perf_param("date: %s, host: %s", date, host);
}

static inline void perf_units(void) {
  perf_param("units: MB = 10^6 bytes; latency in microseconds, one-way = RTT/2 unless said");
}

/* A test's section: its "# test:" line and the column line. */
static inline void perf_test(int csv, const char* name, const char* what) {
  perf_param("test: %s (%s)", name, what);
  if (csv)
    printf("bytes,iters,lat_p50_us,lat_p99_us,lat_mean_us,bw_MB/s,msg_rate_Mmsg/s\n");
  else
    printf("%10s %8s %11s %11s %11s %11s %15s\n", "bytes", "iters", "lat_p50_us", "lat_p99_us",
           "lat_mean_us", "bw_MB/s", "msg_rate_Mmsg/s");
  fflush(stdout);
}

/* One row; NAN for a figure the test does not measure. */
static inline void perf_row(int csv, size_t bytes, long iters, double p50, double p99, double mean,
                            double mbps, double mmsgs) {
  const double v[5] = {p50, p99, mean, mbps, mmsgs};
  const int prec[5] = {3, 3, 3, 2, 4};
  const int width[5] = {11, 11, 11, 11, 15};
  if (csv)
    printf("%zu,%ld", bytes, iters);
  else
    printf("%10zu %8ld", bytes, iters);
  for (int i = 0; i < 5; ++i) {
    if (csv && isnan(v[i]))
      printf(",");
    else if (csv)
      printf(",%.*f", prec[i], v[i]);
    else if (isnan(v[i]))
      printf(" %*s", width[i], "-");
    else
      printf(" %*.*f", width[i], prec[i], v[i]);
  }
  printf("\n");
  fflush(stdout);
}

static inline int perf_cmp_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Sorts v (n samples) and returns its q-quantile (0..1). */
static inline double perf_quantile(double* v, long n, double q) {
  if (n <= 0) return NAN;
  qsort(v, (size_t)n, sizeof *v, perf_cmp_double);
  long i = (long)(q * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

#endif /* FM_BENCH_PERF_REPORT_H */
