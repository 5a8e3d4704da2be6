// external.cpp - a bootstrap supplied by the program through FM_initialize_with: an MPI library
// that already holds the launcher's PMI connection lends FM its key-value exchange, so that FM
// does not open a second PMI session on the same socket.
#include <cstring>
#include <string>
#include <vector>

#include "bootstrap/bootstrap.hpp"
#include "util/error.hpp"

namespace fm::bootstrap {
namespace {

class External final : public Bootstrap {
 public:
  explicit External(const FM_bootstrap& ops) : ops_(ops) {
    rank_ = ops.rank;
    size_ = ops.size;
  }
  const char* name() const noexcept override { return "external"; }

  int put(const std::string& key, const std::string& value) override {
    if (ops_.put(ops_.ctx, key.c_str(), value.c_str()) != 0)
      return fail(FM_ELAUNCH, "external bootstrap: put of key %.64s (%zu bytes) failed",
                  key.c_str(), value.size());
    return FM_SUCCESS;
  }
  int fence() override {
    if (ops_.fence(ops_.ctx) != 0) return fail(FM_ELAUNCH, "external bootstrap: fence failed");
    return FM_SUCCESS;
  }
  int get(const std::string& key, std::string* value) override {
    std::vector<char> buf(ops_.max_value_len + 1, '\0');
    if (ops_.get(ops_.ctx, key.c_str(), buf.data(), buf.size()) != 0)
      return fail(FM_ELAUNCH, "external bootstrap: key %.64s not found", key.c_str());
    buf.back() = '\0';
    value->assign(buf.data());
    return FM_SUCCESS;
  }
  int barrier() override {
    if (ops_.barrier(ops_.ctx) != 0) return fail(FM_ELAUNCH, "external bootstrap: barrier failed");
    return FM_SUCCESS;
  }
  int finalize() override { return FM_SUCCESS; }  // the lender finalizes its own launcher session
  void abort(int code, const char* msg) override {
    if (ops_.abort != nullptr) ops_.abort(ops_.ctx, code, msg);
    std::_Exit(code);
  }

 private:
  FM_bootstrap ops_;
};

}  // namespace

int open_external(const FM_bootstrap* ops, std::unique_ptr<Bootstrap>* out) {
  if (ops == nullptr || ops->put == nullptr || ops->fence == nullptr || ops->get == nullptr ||
      ops->barrier == nullptr)
    return fail(FM_EINVAL, "FM_initialize_with: bootstrap is NULL or lacks put/fence/get/barrier");
  if (ops->size == 0 || ops->rank >= ops->size)
    return fail(FM_EINVAL, "FM_initialize_with: rank %u out of range for a job of %u", ops->rank,
                ops->size);
  if (ops->max_value_len < 64)
    return fail(FM_EINVAL, "FM_initialize_with: max_value_len %zu too small (at least 64)",
                ops->max_value_len);
  *out = std::make_unique<External>(*ops);
  return FM_SUCCESS;
}

}  // namespace fm::bootstrap
