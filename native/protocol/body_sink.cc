#include "protocol/body_sink.h"

#include <cerrno>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

namespace tsgi {

namespace {

int WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

int BodySink::OpenTempFile(const std::string& dir, const char** failed_call) {
  int fd;
  int tmpfile_err = 0;
#ifdef O_TMPFILE
  fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  tmpfile_err = errno;
#endif
  std::string path = dir + "/tsgi-body-XXXXXX";
  fd = mkostemp(&path[0], O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    // The error to report is O_TMPFILE's unless it only said that the file system (or
    // the kernel: EISDIR) has no O_TMPFILE; then mkstemp's is the one that matters.
    const bool unsupported = tmpfile_err == 0 || tmpfile_err == EOPNOTSUPP ||
                             tmpfile_err == EISDIR || tmpfile_err == EINVAL;
    if (failed_call != nullptr) *failed_call = unsupported ? "mkstemp" : "open(O_TMPFILE)";
    return -(unsupported ? err : tmpfile_err);
  }
  unlink(path.c_str());
  return fd;
}

int BodySink::Begin(uint64_t expected, bool known, size_t threshold,
                    const std::string& tmp_dir) {
  Reset();
  threshold_ = threshold;
  tmp_dir_ = tmp_dir;
  if (known && expected > threshold) return Spill();
  if (known) memory_.reserve(static_cast<size_t>(expected));
  return 0;
}

int BodySink::Spill() {
  int fd = OpenTempFile(tmp_dir_, &failed_call_);
  if (fd < 0) return fd;
  int r = WriteAll(fd, memory_.data(), memory_.size());
  if (r < 0) {
    failed_call_ = "write";
    close(fd);
    return r;
  }
  fd_ = fd;
  std::string().swap(memory_);
  return 0;
}

int BodySink::Append(const char* data, size_t len) {
  size_ += len;
  if (fd_ < 0) {
    if (memory_.size() + len <= threshold_) {
      memory_.append(data, len);
      return 0;
    }
    int r = Spill();
    if (r < 0) return r;
  }
  const int r = WriteAll(fd_, data, len);
  if (r < 0) failed_call_ = "write";
  return r;
}

void BodySink::Reset() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  size_ = 0;
  if (memory_.capacity() > 16384) {
    std::string().swap(memory_);
  } else {
    memory_.clear();
  }
}

}  // namespace tsgi
