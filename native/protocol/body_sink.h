// tsgi — where a request body waits for the application (pure: no libuv, no N-API).
//
// In memory up to post-buffering bytes, past that in an unlinked temporary file, so
// that nothing is left on disk whatever way the request or the process ends.
#ifndef TSGI_NATIVE_BODY_SINK_H_
#define TSGI_NATIVE_BODY_SINK_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tsgi {

class BodySink {
 public:
  BodySink() = default;
  ~BodySink() { Reset(); }
  BodySink(const BodySink&) = delete;
  BodySink& operator=(const BodySink&) = delete;

  // Starts a body. expected is its length when known (Content-Length), or 0 when
  // not (chunked). A known length over threshold goes to a file at once; an
  // unknown one moves there when it grows past threshold. Returns 0 or -errno
  // (failed_call() says which call failed).
  int Begin(uint64_t expected, bool known, size_t threshold, const std::string& tmp_dir);
  // Appends body bytes. Returns 0 or -errno (ENOSPC, EIO...).
  int Append(const char* data, size_t len);

  // After Begin or Append failed: the call that did, for the log line ("open(O_TMPFILE)",
  // "mkstemp" or "write"), and the directory it was made in. An errno alone does not
  // tell an operator whether TMPDIR is missing or the disk is full.
  const char* failed_call() const { return failed_call_; }
  const std::string& tmp_dir() const { return tmp_dir_; }

  uint64_t size() const { return size_; }
  bool in_file() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& memory() const { return memory_; }

  // Drops the body: closes the file (which is already unlinked) and frees memory
  // beyond a small reserve.
  void Reset();

  // Opens an unlinked temporary file in dir (O_TMPFILE, or mkstemp + unlink).
  // Returns the fd or -errno; on failure *failed_call (when given) names the call
  // whose errno that is.
  static int OpenTempFile(const std::string& dir, const char** failed_call = nullptr);

 private:
  int Spill();
  const char* failed_call_ = "";
  std::string memory_;
  std::string tmp_dir_;
  size_t threshold_ = 0;
  uint64_t size_ = 0;
  int fd_ = -1;
};

}  // namespace tsgi

#endif  // TSGI_NATIVE_BODY_SINK_H_
