// ga_cxx.cpp - Debian's GA C++ bindings (libga++) on GA-FM: GA::Initialize (which starts MPI), a
// GlobalArray put/get/acc and a read-increment, GA::Terminate.  Prints "ga_cxx: rank R: PASS".
#include <ga++.h>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  GA::Initialize(argc, argv, 1000000);
  const int me = GA::SERVICES.nodeid(), np = GA::SERVICES.nodes();
  bool ok = false;
  {  // the array is destroyed by its destructor, before GA::Terminate
    int dims[2] = {np * 8, 16};
    char name[] = "cxx";
    GA::GlobalArray a(C_INT, 2, dims, name, nullptr);
    a.zero();
    std::vector<int> row(16);
    for (int j = 0; j < 16; ++j) row[static_cast<std::size_t>(j)] = me * 100 + j;
    const int t = (me + 1) % np;
    int lo[2] = {t * 8 + 3, 0}, hi[2] = {t * 8 + 3, 15}, ld = 16;
    a.put(lo, hi, row.data(), &ld);
    GA::SERVICES.sync();
    int two = 2;
    a.acc(lo, hi, row.data(), &ld, &two);
    GA::SERVICES.sync();
    const int from = (me + np - 1) % np;
    int mlo[2] = {me * 8 + 3, 0}, mhi[2] = {me * 8 + 3, 15};
    std::vector<int> got(16);
    a.get(mlo, mhi, got.data(), &ld);
    int bad = 0;
    for (int j = 0; j < 16; ++j) bad += got[static_cast<std::size_t>(j)] != 3 * (from * 100 + j);
    int c[2] = {0, 0};
    long ticket = a.readInc(c, 1);
    long tickets[1] = {ticket};
    GA::SERVICES.lgop(tickets, 1, const_cast<char*>("+"));
    ok = bad == 0 && tickets[0] == static_cast<long>(np) * (np - 1) / 2;
    if (ok)
      std::printf("ga_cxx: rank %d: PASS\n", me);
    else
      std::fprintf(stderr, "ga_cxx: rank %d: %d wrong, ticket sum %ld\n", me, bad, tickets[0]);
  }
  GA::Terminate();
  return ok ? 0 : 1;
}
