// tsgi — the shared-memory scoreboard: one slot per worker core, written by the
// workers with plain atomics and read by the master (harakiri, max-requests,
// reload-on-rss, stats). No libuv, no N-API: memory and numbers.
#ifndef TSGI_NATIVE_SCOREBOARD_H_
#define TSGI_NATIVE_SCOREBOARD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tsgi {

// One worker core. Every field is a 64-bit atomic so that a reader in another
// process never sees a torn value; writers use relaxed stores (each field stands
// alone: nothing is read as a consistent group).
struct ScoreboardSlot {
  std::atomic<uint64_t> pid;             // 0: the slot is free
  std::atomic<uint64_t> status;          // kSlot* below
  std::atomic<uint64_t> requests;        // requests this worker began
  std::atomic<uint64_t> request_start;   // ms since the epoch of the current request; 0: idle
  std::atomic<uint64_t> tx;              // bytes written to clients
  std::atomic<uint64_t> exceptions;      // application errors
  std::atomic<uint64_t> avg_rt;          // running average response time, microseconds
  std::atomic<uint64_t> last_spawn;      // seconds since the epoch
  std::atomic<uint64_t> respawn_count;   // kept by the master
  std::atomic<uint64_t> harakiri_count;  // kept by the master
  std::atomic<uint64_t> rss;             // bytes, written by the worker now and then
  std::atomic<uint64_t> vsz;
  std::atomic<uint64_t> delta_requests;  // kept by the master (requests since last stats)
  std::atomic<uint64_t> running_time;    // microseconds spent in requests, all told
  std::atomic<uint64_t> accept_errors;   // connections refused, and accept() calls failed
  std::atomic<uint64_t> reserved[1];
  // The current request's method and URI ("GET /slow?x=1", cut to fit), for the
  // harakiri line. Plain bytes: a reader may see it half rewritten, which a log line
  // can bear; request_start, written after it, says whether it is current.
  char request[128];
};
static_assert(sizeof(ScoreboardSlot) == 256, "a slot is four cache lines");

enum SlotStatus : uint64_t { kSlotIdle = 0, kSlotBusy = 1, kSlotCheap = 2, kSlotReloading = 3 };

class Scoreboard {
 public:
  // Maps slots over fd (created by Create, or inherited). Returns false on error.
  bool Map(int fd, size_t slots);
  // Creates an anonymous shared file of `slots` slots (memfd), maps it, and returns
  // its fd, to be handed to the workers; -errno on error.
  int Create(size_t slots);
  void Unmap();
  ~Scoreboard() { Unmap(); }

  ScoreboardSlot* slot(size_t i) { return i < slots_ ? &base_[i] : nullptr; }
  size_t slots() const { return slots_; }

 private:
  ScoreboardSlot* base_ = nullptr;
  size_t slots_ = 0;
};

}  // namespace tsgi

#endif  // TSGI_NATIVE_SCOREBOARD_H_
