// api.cpp - the C API: every call acts on the current Context (the one running a handler, else
// the process default), under its API lock when a progress thread runs.  FM_initialize's wiring
// is in wireup.cpp.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "bootstrap/bootstrap.hpp"
#include "core/context.hpp"
#include "core/handlers.hpp"
#include "core/wireup.hpp"
#include "transport/stack.hpp"
#include "util/config.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace {

using fm::core::Context;

std::unique_ptr<Context> g_ctx;
// Per node, whether it had failed when FM_finalize ended (FM_peer_failed after it); emptied by
// the next FM_initialize.
std::vector<unsigned char> g_final_failed;

int initialize(const FM_bootstrap* ext) {
  std::unique_ptr<Context> ctx;
  const int rc = fm::core::wire_up(ext, &ctx);
  if (rc != FM_SUCCESS) return rc;
  g_final_failed.clear();
  g_ctx = std::move(ctx);
  fm::core::set_default(g_ctx.get());
  if (g_ctx->config().progress_thread != 0) g_ctx->start_progress_thread();
  return FM_SUCCESS;
}

// The Context's API lock when a progress thread runs (else nothing is locked); at the end of the
// call, still under it, Context::leave_api.
class ApiLock {
 public:
  explicit ApiLock(Context* c)
      : c_(c), lk_(c != nullptr ? c->api_lock() : std::unique_lock<std::recursive_mutex>()) {}
  ~ApiLock() {
    if (lk_.owns_lock()) c_->leave_api();
  }
  ApiLock(const ApiLock&) = delete;
  ApiLock& operator=(const ApiLock&) = delete;

 private:
  Context* c_;
  std::unique_lock<std::recursive_mutex> lk_;
};
ApiLock lock(Context* c) {
  return ApiLock(c);
}

Context* ctx_or_fail(const char* op) {
  Context* c = fm::core::current();
  if (c == nullptr) fm::fail(FM_ENOTINIT, "%s: FM is not initialized (call FM_initialize)", op);
  return c;
}

// f(context) under the API lock; `none` (FM_last_error saying why) when FM is not initialized.
template <typename F>
auto with_context(const char* call, std::invoke_result_t<F, Context&> none, F&& f) {
  Context* c = ctx_or_fail(call);
  const auto api_lock_ = lock(c);
  return c != nullptr ? f(*c) : none;
}

}  // namespace

extern "C" {

int FM_initialize(void) {
  if (g_ctx != nullptr) return fm::fail(FM_EALREADY, "FM_initialize: FM is already initialized");
  int rc = initialize(nullptr);
  if (rc != FM_SUCCESS)
    FM_ERROR("FM_initialize failed: %s (%s)", fm::last_error(), fm::strerror(rc));
  return rc;
}

int FM_initialize_with(const FM_bootstrap* boot) {
  if (g_ctx != nullptr)
    return fm::fail(FM_EALREADY, "FM_initialize_with: FM is already initialized");
  if (boot == nullptr) return fm::fail(FM_EINVAL, "FM_initialize_with: bootstrap is NULL");
  int rc = initialize(boot);
  if (rc != FM_SUCCESS)
    FM_ERROR("FM_initialize_with failed: %s (%s)", fm::last_error(), fm::strerror(rc));
  return rc;
}

int FM_finalize(void) {
  if (Context* c = fm::core::current(); c != nullptr && c->in_handler())
    return fm::fail(FM_EINHANDLER, "FM_finalize: called inside a handler");
  if (g_ctx == nullptr) return fm::fail(FM_ENOTINIT, "FM_finalize: FM is not initialized");
  g_ctx->stop_progress_thread();
  int rc = g_ctx->finalize();
  if (rc == FM_EINHANDLER) return rc;
  g_final_failed.assign(g_ctx->size(), 0);  // what FM_peer_failed says from now on
  for (unsigned p = 0; p < g_ctx->size(); ++p) g_final_failed[p] = g_ctx->peer(p).link.failed;
  fm::core::set_default(nullptr);
  g_ctx.reset();
  return rc;
}

unsigned FM_nodeid(void) {
  Context* c = fm::core::current();
  return c != nullptr ? c->rank() : 0;
}

unsigned FM_numnodes(void) {
  Context* c = fm::core::current();
  return c != nullptr ? c->size() : 0;
}

int FM_same_host(unsigned node) {
  Context* c = ctx_or_fail("FM_same_host");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return FM_ENOTINIT;
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_same_host: node %u out of range (%u nodes)", node, c->size());
  return c->peer(node).link.same_host ? 1 : 0;
}

const char* FM_transport_name(unsigned node) {
  Context* c = fm::core::current();
  return c != nullptr ? c->transport_name(node) : nullptr;
}

int FM_register_handler(int id, FM_handler fn) {
  return fm::core::register_handler(id, fn);
}
int FM_register_layer_handler(int layer, int index, FM_handler fn) {
  return fm::core::register_layer_handler(layer, index, fn);
}
int FM_unregister_handler(int id) {
  return fm::core::unregister_handler(id);
}

FM_stream* FM_begin_message(unsigned dest, size_t length, int handler) {
  return with_context("FM_begin_message", nullptr,
                      [&](Context& c) { return c.tx().begin_message(dest, length, handler); });
}

FM_stream* FM_try_begin_message(unsigned dest, size_t length, int handler) {
  return with_context("FM_try_begin_message", nullptr, [&](Context& c) {
    return c.tx().begin_message(dest, length, handler, true);
  });
}

int FM_send_piece(FM_stream* s, const void* buf, size_t n) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_send_piece: stream is NULL");
  if (s->magic != fm::core::kOutMagic)
    return fm::fail(FM_ESTREAM, "FM_send_piece: not an open outgoing stream");
  const auto api_lock_ = lock(s->ctx);
  return s->ctx->tx().send_piece(s, buf, n);
}

int FM_end_message(FM_stream* s) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_end_message: stream is NULL");
  if (s->magic != fm::core::kOutMagic)
    return fm::fail(FM_ESTREAM, "FM_end_message: not an open outgoing stream");
  const auto api_lock_ = lock(s->ctx);
  return s->ctx->tx().end_message(s);
}

int FM_send(unsigned dest, int handler, const void* buf, size_t n) {
  return with_context("FM_send", FM_ENOTINIT,
                      [&](Context& c) { return c.tx().send(dest, handler, buf, n); });
}

int FM_try_send(unsigned dest, int handler, const void* buf, size_t n) {
  return with_context("FM_try_send", FM_ENOTINIT,
                      [&](Context& c) { return c.tx().send(dest, handler, buf, n, true); });
}

int FM_send_4(unsigned dest, int handler, uint32_t i0, uint32_t i1, uint32_t i2, uint32_t i3) {
  const uint32_t v[4] = {i0, i1, i2, i3};
  return with_context("FM_send_4", FM_ENOTINIT,
                      [&](Context& c) { return c.tx().send(dest, handler, v, sizeof v); });
}

long FM_extract(size_t maxbytes) {
  return with_context("FM_extract", FM_ENOTINIT, [&](Context& c) { return c.extract(maxbytes); });
}

long FM_extract_wait(size_t maxbytes, int timeout_ms) {
  return with_context("FM_extract_wait", FM_ENOTINIT,
                      [&](Context& c) { return c.extract_wait(maxbytes, timeout_ms); });
}

int FM_wait_until(int (*done)(void* arg), void* arg, int timeout_ms) {
  return with_context("FM_wait_until", FM_ENOTINIT,
                      [&](Context& c) { return c.wait_until(done, arg, timeout_ms); });
}

int FM_notify(unsigned node) {
  Context* c = fm::core::current();
  if (c == nullptr) return fm::fail(FM_ENOTINIT, "FM_notify: FM is not initialized");
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_notify: node %u out of range (%u nodes)", node, c->size());
  c->idler().notify(node);
  return FM_SUCCESS;
}

int FM_idle_blocks(void) {
  Context* c = fm::core::current();
  return c != nullptr && !c->closed() && c->idler().blocks() ? 1 : 0;
}

long FM_receive(void* buf, FM_stream* s, size_t n) {
  if (s == nullptr) return fm::fail(FM_ESTREAM, "FM_receive: stream is NULL");
  if (s->magic != fm::core::kInMagic)
    return fm::fail(FM_ESTREAM, "FM_receive: not the stream of a running handler");
  // No API lock here: a handler runs while the thread that dispatched it holds that lock, and
  // FM_receive may suspend the handler's fiber; a lock taken in the fiber's frame would stay
  // with the thread that ran it until the fiber resumed, perhaps on another thread.
  return s->ctx->receive(buf, s, n);
}

size_t FM_stream_length(FM_stream* s) {
  if (s == nullptr) return 0;
  if (s->magic == fm::core::kInMagic) return static_cast<fm::core::InStream*>(s)->declared;
  if (s->magic == fm::core::kOutMagic) return static_cast<fm::core::OutStream*>(s)->declared;
  return 0;
}

size_t FM_packet_payload(void) {
  Context* c = fm::core::current();
  if (c != nullptr) return c->payload();
  fm::Config cfg = fm::preset_config();  // before FM_initialize: a singleton's packets
  (void)cfg.apply_env();
  return cfg.packet() - sizeof(fm::core::PacketHeader);
}

size_t FM_max_message(void) {
  return SIZE_MAX / 2;
}

size_t FM_try_max(unsigned node) {
  Context* c = ctx_or_fail("FM_try_max");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return 0;
  if (node >= c->size()) {
    fm::fail(FM_ENODEST, "FM_try_max: node %u out of range (%u nodes)", node, c->size());
    return 0;
  }
  return c->try_max(node);
}

int FM_in_handler(void) {
  Context* c = fm::core::current();
  return c != nullptr && c->in_handler() ? 1 : 0;
}

int FM_peer_failed(unsigned node) {
  if (fm::core::current() == nullptr && !g_final_failed.empty()) {  // after FM_finalize
    if (node >= g_final_failed.size())
      return fm::fail(FM_ENODEST, "FM_peer_failed: node %u out of range (%zu nodes)", node,
                      g_final_failed.size());
    return g_final_failed[node];
  }
  Context* c = ctx_or_fail("FM_peer_failed");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return FM_ENOTINIT;
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_peer_failed: node %u out of range (%u nodes)", node, c->size());
  return c->peer(node).link.failed ? 1 : 0;
}

uint64_t FM_atomic_local(void* addr, int op, int type, uint64_t operand, uint64_t compare) {
  return fm::core::apply_local(addr, op, type, operand, compare);
}

int FM_oversubscribed(void) {
  Context* c = fm::core::current();
  return c != nullptr && c->oversubscribed() ? 1 : 0;
}

void FM_abort(int code, const char* msg) {
  if (Context* c = fm::core::current(); c != nullptr)
    c->abort(code, msg);
  else
    fm::bootstrap::abort_kept(code, msg);  // after a failed FM_initialize: its launcher
  std::fprintf(stderr, "fm: the job aborts (code %d): %s\n", code, msg != nullptr ? msg : "");
  std::_Exit(code);
}

int FM_get_peer_stats(unsigned node, FM_peer_stats* out) {
  Context* c = ctx_or_fail("FM_get_peer_stats");
  const auto api_lock_ = lock(c);
  if (c == nullptr) return FM_ENOTINIT;
  if (out == nullptr) return fm::fail(FM_EINVAL, "FM_get_peer_stats: out is NULL");
  if (node >= c->size())
    return fm::fail(FM_ENODEST, "FM_get_peer_stats: node %u out of range (%u nodes)", node,
                    c->size());
  const fm::core::PeerStats& q = c->peer(node).stats;
  const fm::core::RmaEngine::Counters& r = c->rma().counters(node);
  *out = FM_peer_stats{
      q.msgs_in, q.bytes_in,  q.msgs_out, q.bytes_out, q.credit_stalls,          q.zcopy_bytes,
      r.ops_out, r.bytes_out, r.ops_in,   r.bytes_in,  c->retransmissions(node), q.handler_ns};
  return FM_SUCCESS;
}

int FM_register_memory(void* buf, size_t len, unsigned access, FM_region* out) {
  return with_context("FM_register_memory", FM_ENOTINIT,
                      [&](Context& c) { return c.rma().register_memory(buf, len, access, out); });
}
int FM_deregister_memory(const FM_region* region) {
  return with_context("FM_deregister_memory", FM_ENOTINIT,
                      [&](Context& c) { return c.rma().deregister_memory(region); });
}
int FM_put_nb(const FM_region* dst, uint64_t offset, const void* src, size_t len,
              FM_request** req) {
  return with_context("FM_put_nb", FM_ENOTINIT, [&](Context& c) {
    return c.rma().start(0, dst, offset, const_cast<void*>(src), len, 0, 0, nullptr, nullptr, req,
                         "FM_put_nb");
  });
}
int FM_get_nb(const FM_region* src, uint64_t offset, void* dst, size_t len, FM_request** req) {
  Context* c = ctx_or_fail("FM_get_nb");
  const auto api_lock_ = lock(c);
  return c != nullptr
             ? c->rma().start(1, src, offset, dst, len, 0, 0, nullptr, nullptr, req, "FM_get_nb")
             : FM_ENOTINIT;
}
int FM_atomic_nb(const FM_region* dst, uint64_t offset, int op, int type, const void* operand,
                 const void* compare, void* result, FM_request** req) {
  return with_context("FM_atomic_nb", FM_ENOTINIT, [&](Context& c) {
    return c.rma().start(2, dst, offset, result, 0, op, type, operand, compare, req,
                         "FM_atomic_nb");
  });
}

namespace {
fm::core::RmaOp* op_of(FM_request* req, const char* what) {
  Context* c = ctx_or_fail(what);
  if (c == nullptr) return nullptr;
  auto* op = reinterpret_cast<fm::core::RmaOp*>(req);
  if (req == nullptr || !c->rma().owns(op) || op->state == fm::core::RmaOp::kFree || op->detached) {
    fm::fail(FM_EINVAL, "%s: not a live request handle", what);
    return nullptr;
  }
  return op;
}
}  // namespace

int FM_wait(FM_request* req) {
  const auto api_lock_ = lock(fm::core::current());
  fm::core::RmaOp* op = op_of(req, "FM_wait");
  return op != nullptr ? op->engine->wait(op) : FM_last_status();
}
int FM_test(FM_request* req, int* done) {
  if (done == nullptr) return fm::fail(FM_EINVAL, "FM_test: done is NULL");
  *done = 0;
  const auto api_lock_ = lock(fm::core::current());
  fm::core::RmaOp* op = op_of(req, "FM_test");
  return op != nullptr ? op->engine->test(op, done) : FM_last_status();
}
int FM_put(const FM_region* dst, uint64_t offset, const void* src, size_t len) {
  FM_request* req = nullptr;
  const int rc = FM_put_nb(dst, offset, src, len, &req);
  return rc != FM_SUCCESS ? rc : FM_wait(req);
}
int FM_get(const FM_region* src, uint64_t offset, void* dst, size_t len) {
  FM_request* req = nullptr;
  const int rc = FM_get_nb(src, offset, dst, len, &req);
  return rc != FM_SUCCESS ? rc : FM_wait(req);
}
int FM_atomic(const FM_region* dst, uint64_t offset, int op, int type, const void* operand,
              const void* compare, void* result) {
  FM_request* req = nullptr;
  const int rc = FM_atomic_nb(dst, offset, op, type, operand, compare, result, &req);
  return rc != FM_SUCCESS ? rc : FM_wait(req);
}

// Strided: one non-blocking operation per block, then a flush of that node.
int FM_put_strided(const FM_region* dst, uint64_t offset, ptrdiff_t dst_stride, const void* src,
                   ptrdiff_t src_stride, size_t elem_size, size_t count) {
  if (dst == nullptr) return fm::fail(FM_EINVAL, "FM_put_strided: region is NULL");
  const auto* s = static_cast<const std::byte*>(src);
  for (size_t i = 0; i < count; ++i) {
    const auto off = static_cast<std::int64_t>(offset) + static_cast<std::int64_t>(i) * dst_stride;
    if (off < 0) return fm::fail(FM_EACCESS, "FM_put_strided: block %zu lies before the region", i);
    const int rc = FM_put_nb(dst, static_cast<uint64_t>(off),
                             s + static_cast<std::ptrdiff_t>(i) * src_stride, elem_size, nullptr);
    if (rc != FM_SUCCESS) return rc;
  }
  return FM_flush(dst->node);
}
int FM_get_strided(const FM_region* src, uint64_t offset, ptrdiff_t src_stride, void* dst,
                   ptrdiff_t dst_stride, size_t elem_size, size_t count) {
  if (src == nullptr) return fm::fail(FM_EINVAL, "FM_get_strided: region is NULL");
  auto* d = static_cast<std::byte*>(dst);
  for (size_t i = 0; i < count; ++i) {
    const auto off = static_cast<std::int64_t>(offset) + static_cast<std::int64_t>(i) * src_stride;
    if (off < 0) return fm::fail(FM_EACCESS, "FM_get_strided: block %zu lies before the region", i);
    const int rc = FM_get_nb(src, static_cast<uint64_t>(off),
                             d + static_cast<std::ptrdiff_t>(i) * dst_stride, elem_size, nullptr);
    if (rc != FM_SUCCESS) return rc;
  }
  return FM_flush(src->node);
}
int FM_progress_thread(int on) {
  Context* c = ctx_or_fail("FM_progress_thread");
  if (c == nullptr) return FM_ENOTINIT;
  if (c->in_handler()) return fm::fail(FM_EINHANDLER, "FM_progress_thread: inside a handler");
  const int was = c->progress_mode();
  if (on < 0 || on > 2)
    return fm::fail(FM_EINVAL, "FM_progress_thread: on is %d, not 0, 1 or 2 (async handlers only)",
                    on);
  if (on != was) c->stop_progress_thread();
  if (on != 0 && on != was) c->start_progress_thread(on);
  return was;
}

int FM_handler_async(int id, int async) {
  return fm::core::set_handler_async(id, async != 0);
}

int FM_initialized(void) {
  Context* c = fm::core::default_context();
  return c != nullptr && !c->closed() ? 1 : 0;
}

int FM_fence(unsigned node) {
  return with_context("FM_fence", FM_ENOTINIT, [&](Context& c) { return c.rma().fence(node); });
}
int FM_flush(unsigned node) {
  return with_context("FM_flush", FM_ENOTINIT,
                      [&](Context& c) { return c.rma().flush(node, "FM_flush"); });
}
int FM_quiet(void) {
  return with_context("FM_quiet", FM_ENOTINIT, [&](Context& c) { return c.rma().quiet(); });
}

const char* FM_strerror(int status) {
  return fm::strerror(status);
}
int FM_last_status(void) {
  return fm::last_status();
}
const char* FM_last_error(void) {
  return fm::last_error();
}

// --- configuration ------------------------------------------------------------------------------

int FM_config_set(const char* name, const char* value) {
  if (fm::core::default_context() != nullptr)
    return fm::fail(FM_EALREADY,
                    "FM_config_set(%s): FM is already initialized; set tunables before",
                    name != nullptr ? name : "(null)");
  return fm::preset_config().set(name, value);
}

int FM_config_get(const char* name, char* value, size_t len) {
  if (value == nullptr && len != 0) return fm::fail(FM_EINVAL, "FM_config_get: value is NULL");
  std::string v;
  int rc;
  if (Context* c = fm::core::current(); c != nullptr) {
    rc = c->config().get(name, &v);
  } else {  // not initialized: what FM_initialize would start from
    fm::Config cfg = fm::preset_config();
    rc = cfg.apply_env();
    if (rc == FM_SUCCESS) rc = cfg.get(name, &v);
  }
  if (rc != FM_SUCCESS) return rc;
  if (v.size() + 1 > len)
    return fm::fail(FM_ELENGTH, "FM_config_get(%s): %zu bytes needed, %zu given", name,
                    v.size() + 1, len);
  std::memcpy(value, v.c_str(), v.size() + 1);
  return FM_SUCCESS;
}

int FM_config_describe(unsigned index, FM_tunable* out) {
  if (out == nullptr) return fm::fail(FM_EINVAL, "FM_config_describe: out is NULL");
  if (index >= fm::config_count())
    return fm::fail(FM_EINVAL, "FM_config_describe: index %u past the last tunable (%zu)", index,
                    fm::config_count());
  const fm::ConfigEntry& e = fm::config_entry(index);
  *out = FM_tunable{e.name, e.type, e.def, e.help};
  return FM_SUCCESS;
}

int FM_probe_transport(unsigned index, char* info, size_t len) {
  if (info == nullptr || len == 0) return fm::fail(FM_EINVAL, "FM_probe_transport: no buffer");
  unsigned k = 0;
  for (const auto& spec : fm::transport::providers()) {
    if (!spec.probe || k++ != index) continue;
    fm::transport::StackParams sp;
    sp.open.spec = &spec;
    sp.open.rx_depth = 64;
    sp.open.tx_depth = 64;
    sp.credits = 56;  // + the control reserve: the 64 receives asked for
    fm::transport::Stack st;
    const int rc = fm::transport::open_stack(sp, &st);
    if (rc != FM_SUCCESS) {
      std::snprintf(info, len, "%-6s unavailable: %s", spec.name, fm::last_error());
      return rc;
    }
    const auto& c = st.tp->caps();
    std::snprintf(info, len, "%-6s %-14s inject=%zu max_msg=%zu rx_depth=%u tx_depth=%u wait_fd=%s",
                  spec.name, c.name.c_str(), c.inject_size, c.max_msg, c.rx_depth, c.tx_depth,
                  c.wait_fd ? "yes" : "no");
    return FM_SUCCESS;
  }
  return fm::fail(FM_ENODEST, "FM_probe_transport: index %u past the last transport", index);
}

// --- on-host segments ---------------------------------------------------------------------------

int FM_alloc_segment(size_t len, unsigned access, void** addr, FM_region* out) {
  return with_context("FM_alloc_segment", FM_ENOTINIT,
                      [&](Context& c) { return c.segments().alloc(len, access, addr, out); });
}
int FM_share_memory(void* addr, size_t len, unsigned access, FM_region* out) {
  return with_context("FM_share_memory", FM_ENOTINIT,
                      [&](Context& c) { return c.segments().share(addr, len, access, out); });
}
int FM_free_segment(const FM_region* region) {
  return with_context("FM_free_segment", FM_ENOTINIT,
                      [&](Context& c) { return c.segments().free(region); });
}
void* FM_region_ptr(const FM_region* region) {
  return with_context("FM_region_ptr", nullptr,
                      [&](Context& c) { return c.segments().ptr(region); });
}
int FM_unmap_region(const FM_region* region) {
  return with_context("FM_unmap_region", FM_ENOTINIT,
                      [&](Context& c) { return c.segments().unmap(region); });
}

// --- pending sends ------------------------------------------------------------------------------

int FM_pending_add(unsigned dest, FM_pending* req) {
  return with_context("FM_pending_add", FM_ENOTINIT,
                      [&](Context& c) { return c.tx().pending_add(dest, req); });
}
size_t FM_pending_count(unsigned dest) {
  Context* c = fm::core::current();
  return c != nullptr ? c->tx().pending_count(dest) : 0;
}

}  // extern "C"
