// tsgi — the shared-memory scoreboard: one slot per worker core, written by the
// workers with plain atomics and read by the master (harakiri, max-requests,
// reload-on-rss, stats), and the list of a core's requests in progress that decides
// what its slot shows of them. No libuv, no N-API: memory and numbers.
#ifndef TSGI_NATIVE_SCOREBOARD_H_
#define TSGI_NATIVE_SCOREBOARD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "wire.h"  // kDurationBoundsUs, kRefusalStatuses

namespace tsgi {

// The request duration histogram's bucket bounds are kDurationBoundsUs (Prometheus's
// default buckets, 5 ms to 10 s); the last bucket counts what is over the last bound.
constexpr size_t kDurationBuckets = sizeof kDurationBoundsUs / sizeof kDurationBoundsUs[0] + 1;

// The bucket a request of us microseconds falls in.
inline size_t DurationBucket(uint64_t us) {
  size_t i = 0;
  while (i < kDurationBuckets - 1 && us > kDurationBoundsUs[i]) i++;
  return i;
}

// The status classes of responses counted: 1xx to 5xx.
constexpr size_t kStatusClasses = 5;

// Refusals are counted by status: the statuses the server refuses with
// (kRefusalStatuses), then any other status, then a refusal with no answer (a
// malformed uwsgi packet: the connection is closed).
constexpr size_t kRefusalOther = sizeof kRefusalStatuses / sizeof kRefusalStatuses[0];
constexpr size_t kRefusalUnanswered = kRefusalOther + 1;
constexpr size_t kRefusalKinds = kRefusalUnanswered + 1;

inline size_t RefusalIndex(int status) {
  for (size_t i = 0; i < kRefusalOther; i++) {
    if (kRefusalStatuses[i] == status) return i;
  }
  return kRefusalOther;
}

// One worker core. Every field is a 64-bit atomic so that a reader in another
// process never sees a torn value; writers use relaxed stores (each field stands
// alone: nothing is read as a consistent group).
struct ScoreboardSlot {
  std::atomic<uint64_t> pid;             // 0: the slot is free
  std::atomic<uint64_t> status;          // kSlot* below
  std::atomic<uint64_t> requests;        // requests this worker began
  // ms since the epoch at which the oldest request in progress began; 0: idle.
  std::atomic<uint64_t> request_start;
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
  // The pid of the process that wrote rss, written after it: a reading the master
  // left from the slot's previous process (or took before this one wrote) is told
  // apart by it.
  std::atomic<uint64_t> rss_pid;
  // For the Prometheus metrics (lib/process/metrics.ts). Gauges: the requests in progress
  // (InProgress) and the connections open. Counters: requests whose client went away
  // before their response was complete; requests answered, by status class (1xx at
  // 0) and by duration (kDurationBoundsUs, one bucket each, not cumulative), both
  // written when the response is complete (Server::EndRequest), as running_time is;
  // refusals by status (RefusalIndex).
  std::atomic<uint64_t> in_progress;
  std::atomic<uint64_t> connections;
  std::atomic<uint64_t> aborted;
  std::atomic<uint64_t> codes[kStatusClasses];
  std::atomic<uint64_t> durations[kDurationBuckets];
  std::atomic<uint64_t> refusals[kRefusalKinds];
  // A gauge: the connections upgraded (WebSockets) that the application holds, written
  // by JavaScript as each opens and closes (Server::SetUpgraded).
  std::atomic<uint64_t> upgraded;
  uint64_t reserved[2];
  // The oldest request in progress's method and URI ("GET /slow?x=1", cut to fit), for
  // the harakiri line. Plain bytes: a reader may see it half rewritten, which a log
  // line can bear; request_start, written after it, says whether it is current.
  char request[128];
};
static_assert(sizeof(ScoreboardSlot) == 512, "a slot is eight cache lines");

enum SlotStatus : uint64_t { kSlotIdle = 0, kSlotBusy = 1, kSlotCheap = 2, kSlotReloading = 3 };

// A request as InProgress keeps it: when it began and its request line. Embedded in
// the server's per-request state, linked while the request is in progress.
struct InProgressEntry {
  InProgressEntry* older = nullptr;
  InProgressEntry* newer = nullptr;
  bool linked = false;
  uint64_t start_ms = 0;
  size_t line_len = 0;
  char line[sizeof(ScoreboardSlot::request)];
};

// The requests in progress on one worker core, oldest first: Begin appends, End
// unlinks, both O(1), and the slot shows the oldest one's start and request line (and
// busy while there is any). Harakiri judges the oldest request, so that a request that
// hangs is seen however many others start and end beside it. Requests begin in the
// order of their start times, so the first of the list is the oldest.
class InProgress {
 public:
  // slot: where to publish; null (no master) makes Begin and End do nothing.
  explicit InProgress(ScoreboardSlot* slot = nullptr) : slot_(slot) {}
  void set_slot(ScoreboardSlot* slot) { slot_ = slot; }
  // e begins at now_ms: "METHOD URI" is copied into it, cut to the slot's room.
  void Begin(InProgressEntry* e, uint64_t now_ms, const char* method, size_t method_len,
             const char* uri, size_t uri_len);
  // e ended (answered, or its connection gone); nothing when e is not in progress.
  void End(InProgressEntry* e);
  const InProgressEntry* oldest() const { return oldest_; }
  size_t size() const { return size_; }

 private:
  void Publish();  // the slot shows oldest_, or idle
  ScoreboardSlot* slot_;
  InProgressEntry* oldest_ = nullptr;
  InProgressEntry* newest_ = nullptr;
  size_t size_ = 0;
};

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
