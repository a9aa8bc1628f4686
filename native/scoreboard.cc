#include "scoreboard.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace tsgi
