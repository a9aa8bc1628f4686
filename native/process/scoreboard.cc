#include "process/scoreboard.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tsgi {

int Scoreboard::Create(size_t slots) {
  int fd = memfd_create("tsgi-scoreboard", 0);  // no MFD_CLOEXEC: workers inherit it
  if (fd < 0) return -errno;
  if (ftruncate(fd, static_cast<off_t>(slots * sizeof(ScoreboardSlot))) != 0 || !Map(fd, slots)) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

bool Scoreboard::Map(int fd, size_t slots) {
  Unmap();
  void* p = mmap(nullptr, slots * sizeof(ScoreboardSlot), PROT_READ | PROT_WRITE, MAP_SHARED,
                 fd, 0);
  if (p == MAP_FAILED) return false;
  base_ = static_cast<ScoreboardSlot*>(p);
  slots_ = slots;
  return true;
}

void Scoreboard::Unmap() {
  if (base_ != nullptr) munmap(base_, slots_ * sizeof(ScoreboardSlot));
  base_ = nullptr;
  slots_ = 0;
}

void InProgress::Begin(InProgressEntry* e, uint64_t now_ms, const char* method,
                       size_t method_len, const char* uri, size_t uri_len) {
  if (slot_ == nullptr || e->linked) return;
  const size_t room = sizeof e->line - 1;
  size_t n = method_len < room ? method_len : room;
  std::memcpy(e->line, method, n);
  if (n < room) e->line[n++] = ' ';
  const size_t u = uri_len < room - n ? uri_len : room - n;
  std::memcpy(e->line + n, uri, u);
  e->line_len = n + u;
  e->line[e->line_len] = '\0';
  e->start_ms = now_ms;
  e->linked = true;
  e->newer = nullptr;
  e->older = newest_;
  if (newest_ != nullptr) newest_->newer = e;
  newest_ = e;
  size_++;
  slot_->in_progress.store(size_, std::memory_order_relaxed);
  if (oldest_ == nullptr) {
    oldest_ = e;
    Publish();
  }
}

void InProgress::End(InProgressEntry* e) {
  if (!e->linked) return;
  e->linked = false;
  if (e->older != nullptr) e->older->newer = e->newer;
  if (e->newer != nullptr) e->newer->older = e->older;
  if (newest_ == e) newest_ = e->older;
  size_--;
  slot_->in_progress.store(size_, std::memory_order_relaxed);
  if (oldest_ == e) {
    oldest_ = e->newer;
    Publish();
  }
  e->older = e->newer = nullptr;
}

void InProgress::Publish() {
  if (oldest_ == nullptr) {
    slot_->request_start.store(0, std::memory_order_relaxed);
    slot_->status.store(kSlotIdle, std::memory_order_relaxed);
    return;
  }
  // The line first, then the start that says it is current (see ScoreboardSlot).
  std::memcpy(slot_->request, oldest_->line, oldest_->line_len + 1);
  slot_->request_start.store(oldest_->start_ms, std::memory_order_release);
  slot_->status.store(kSlotBusy, std::memory_order_relaxed);
}

}  // namespace tsgi
