// Unit tests of the pure native modules besides the parser: cgi_vars (how a head
// becomes HTTP_* variables), key_table, request_log (the log line), body_sink
// (memory, then an unlinked temporary file) and scoreboard (what a slot shows of the
// requests in progress). Built with ASan/UBSan by run.sh.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "protocol/body_sink.h"
#include "protocol/cgi_vars.h"
#include "protocol/http_parser.h"
#include "protocol/key_table.h"
#include "protocol/request_log.h"
#include "process/scoreboard.h"

#include "support.h"

namespace {

using tsgi::test::g_failed;
using tsgi::test::g_passed;

struct Var {
  int index;
  std::string key;
  std::string value;
};

std::vector<Var> Vars(const std::string& request, const tsgi::KeyTable& keys) {
  tsgi::HttpRequestHead head;
  tsgi::HttpError error = tsgi::HttpError::kNone;
  ssize_t r = tsgi::ParseRequestHead(request.data(), request.size(), 65536, &head, &error);
  std::vector<Var> out;
  if (r <= 0) {
    std::fprintf(stderr, "parse failed (%zd, %s) for %s\n", r,
                 tsgi::DescribeHttpError(error).reason, request.c_str());
    return out;
  }
  std::string scratch, key;
  tsgi::ForEachHeaderVar(head, keys, &scratch, [&](int index, tsgi::StrView name, tsgi::StrView value) {
    tsgi::HttpKey(name, &key);
    out.push_back(Var{index, key, std::string(value.data, value.len)});
  });
  return out;
}

void TestHeaderVars() {
  tsgi::KeyTable keys;
  keys.Add("host", 4, 0);
  keys.Add("User-Agent", 10, 1);
  keys.Add("cookie", 6, 2);
  std::vector<Var> v = Vars(
      "GET / HTTP/1.1\r\nHost: a\r\nUSER-AGENT: ua\r\nX-A: 1\r\nContent-Type: t/p\r\n"
      "Content-Length: 0\r\nX_Spoof: no\r\nx-a: 2\r\nCookie: c=1\r\nX-A: 3\r\ncookie: d=2\r\n\r\n",
      keys);
  CHECK(v.size() == 4);
  if (v.size() != 4) return;
  CHECK(v[0].index == 0 && v[0].key == "HTTP_HOST" && v[0].value == "a");
  CHECK(v[1].index == 1 && v[1].key == "HTTP_USER_AGENT" && v[1].value == "ua");
  CHECK(v[2].index == tsgi::KeyTable::kMissing && v[2].key == "HTTP_X_A" && v[2].value == "1, 2, 3");
  CHECK(v[3].index == 2 && v[3].value == "c=1; d=2");

  std::vector<Var> te = Vars(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", keys);
  CHECK(te.size() == 1 && te[0].key == "HTTP_HOST");

  // An absolute-form target's authority is HTTP_HOST (RFC 9112 §3.2.2), in the Host
  // field's place, or after the fields when there is none.
  std::vector<Var> abs = Vars(
      "GET http://other.example:8080/p?q HTTP/1.1\r\nX-A: 1\r\nHost: good.example\r\n"
      "X-B: 2\r\n\r\n", keys);
  CHECK(abs.size() == 3);
  if (abs.size() == 3) {
    CHECK(abs[0].key == "HTTP_X_A" && abs[2].key == "HTTP_X_B");
    CHECK(abs[1].index == 0 && abs[1].key == "HTTP_HOST" && abs[1].value == "other.example:8080");
  }
  std::vector<Var> abs10 = Vars("GET http://a.example/ HTTP/1.0\r\nX-A: 1\r\n\r\n", keys);
  CHECK(abs10.size() == 2);
  if (abs10.size() == 2) {
    CHECK(abs10[1].index == 0 && abs10[1].key == "HTTP_HOST" && abs10[1].value == "a.example");
  }
  std::vector<Var> origin10 = Vars("GET / HTTP/1.0\r\nX-A: 1\r\n\r\n", keys);
  CHECK(origin10.size() == 1);

  tsgi::HttpRequestHead head;
  tsgi::HttpError status = tsgi::HttpError::kNone;
  std::string req = "GET / HTTP/1.1\r\nHost: h\r\ncontent-type: a/b\r\n\r\n";
  CHECK(tsgi::ParseRequestHead(req.data(), req.size(), 4096, &head, &status) > 0);
  tsgi::StrView ct = tsgi::ContentType(head);
  CHECK(std::string(ct.data, ct.len) == "a/b");
}

void TestStripScriptName() {
  auto strip = [](const std::string& path, const std::string& script) {
    const tsgi::StrView out = tsgi::StripScriptName(tsgi::StrView{path.data(), path.size()},
                                                     tsgi::StrView{script.data(), script.size()});
    // A view into path, never a copy.
    CHECK(out.data >= path.data() && out.data + out.len == path.data() + path.size());
    return std::string(out.data, out.len);
  };
  CHECK(strip("/app/items", "/app") == "/items");
  CHECK(strip("/app", "/app") == "");
  CHECK(strip("/app/", "/app") == "/");
  CHECK(strip("/app/items", "/app/") == "/items");      // a trailing "/" does not count
  CHECK(strip("/application", "/app") == "/application");  // whole segments only
  CHECK(strip("/other/app", "/app") == "/other/app");
  CHECK(strip("/ap", "/app") == "/ap");
  CHECK(strip("/x", "") == "/x");
  CHECK(strip("/x", "/") == "/x");  // "/" is the root: nothing to take off
  CHECK(strip("", "/app") == "");
}

void TestKeyTable() {
  tsgi::KeyTable t;
  CHECK(t.Find("host", 4) == tsgi::KeyTable::kMissing);  // empty table
  const char* names[] = {"host", "user-agent", "accept", "accept-encoding", "cookie",
                         "x-forwarded-for", "sec-ch-ua-platform"};
  // Enough entries to make the table grow more than once.
  std::vector<std::string> extra;
  for (int i = 0; i < 200; i++) extra.push_back("x-extra-" + std::to_string(i));
  for (int i = 0; i < 7; i++) t.Add(names[i], std::strlen(names[i]), i);
  for (int i = 0; i < 200; i++) t.Add(extra[i].data(), extra[i].size(), 100 + i);
  CHECK(t.size() == 207);
  CHECK(t.Find("HOST", 4) == 0);
  CHECK(t.Find("Accept-Encoding", 15) == 3);
  CHECK(t.Find("accept-encodinG", 15) == 3);
  CHECK(t.Find("accept-encodin", 14) == tsgi::KeyTable::kMissing);
  CHECK(t.Find("X-EXTRA-199", 11) == 299);
  std::string longname(100, 'a');
  t.Add(longname.data(), longname.size(), 5);  // over kMaxName: ignored
  CHECK(t.Find(longname.data(), longname.size()) == tsgi::KeyTable::kMissing);
}

void TestLogLine() {
  tsgi::RequestLogEntry e;
  e.pid = 4242;
  e.worker_requests = 3;
  e.total_requests = 7;
  e.remote_addr = "127.0.0.1";
  e.vars_count = 16;
  e.vars_bytes = 323;
  e.started = std::time(nullptr);
  e.method = "GET";
  e.method_len = 3;
  e.uri = "/x?y";
  e.uri_len = 4;
  e.body_bytes = 5;
  e.msecs = 12;
  e.protocol = "HTTP/1.1";
  e.status = 200;
  e.header_count = 2;
  e.header_bytes = 64;
  std::string line;
  tsgi::AppendRequestLogLine(&line, e);
  // [pid: 4242|app: 0|req: 3/7] 127.0.0.1 () {16 vars in 323 bytes} [Www Mmm dd hh:mm:ss yyyy] GET ...
  const std::string head = "[pid: 4242|app: 0|req: 3/7] 127.0.0.1 () {16 vars in 323 bytes} [";
  const std::string tail =
      "] GET /x?y => generated 5 bytes in 12 msecs (HTTP/1.1 200) 2 headers in 64 bytes "
      "(1 switches on core 0)\n";
  const size_t date_len = 24;  // "Sat Nov 21 04:03:13 2026"
  CHECK(line.size() == head.size() + date_len + tail.size());
  CHECK(line.compare(0, head.size(), head) == 0);
  CHECK(line.compare(head.size() + date_len, std::string::npos, tail) == 0);
  const std::string date = line.substr(head.size(), date_len);
  CHECK(date[3] == ' ' && date[7] == ' ' && date[10] == ' ' && date[13] == ':' && date[16] == ':' &&
        date[19] == ' ');
  if (g_failed) std::fprintf(stderr, "line: %s", line.c_str());
  // A value with a line feed cannot forge a line: control bytes and backslashes are
  // escaped.
  tsgi::RequestLogEntry bad = e;
  bad.remote_addr = "1\n2.0.2.1";
  bad.uri = "/s\row\\x";
  bad.uri_len = 7;
  std::string escaped;
  tsgi::AppendRequestLogLine(&escaped, bad);
  CHECK(escaped.find('\r') == std::string::npos);
  CHECK(escaped.find('\n') == escaped.size() - 1);
  CHECK(escaped.find(") 1\\x0a2.0.2.1 (") != std::string::npos || escaped.find("] 1\\x0a2.0.2.1 (") != std::string::npos);
  CHECK(escaped.find("GET /s\\x0dow\\x5cx =>") != std::string::npos);
}

void TestLogFilter() {
  tsgi::RequestLogFilter all;
  CHECK(tsgi::ShouldLogRequest(all, 200, 0, 0));
  tsgi::RequestLogFilter none;
  none.all = false;
  CHECK(!tsgi::ShouldLogRequest(none, 404, 100000, 1 << 30));
  tsgi::RequestLogFilter f;
  f.all = false;
  f.status_4xx = true;
  CHECK(tsgi::ShouldLogRequest(f, 400, 0, 0) && tsgi::ShouldLogRequest(f, 499, 0, 0));
  CHECK(!tsgi::ShouldLogRequest(f, 399, 0, 0) && !tsgi::ShouldLogRequest(f, 500, 0, 0));
  f.status_4xx = false;
  f.status_5xx = true;
  CHECK(tsgi::ShouldLogRequest(f, 503, 0, 0) && !tsgi::ShouldLogRequest(f, 404, 0, 0));
  f.status_5xx = false;
  f.slow_ms = 100;
  CHECK(tsgi::ShouldLogRequest(f, 200, 100, 0) && !tsgi::ShouldLogRequest(f, 200, 99, 0));
  f.slow_ms = 0;
  f.big_bytes = 4096;
  CHECK(tsgi::ShouldLogRequest(f, 200, 0, 4096) && !tsgi::ShouldLogRequest(f, 200, 0, 4095));
}

void TestJsonLine() {
  std::string s;
  tsgi::AppendJsonString(&s, "a\"b\\c\n\x01\xc3\xa9", 9);
  CHECK(s == "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"");
  std::string line;
  // 2026-12-06T12:30:19.045Z
  tsgi::AppendJsonConnectionLine(&line, 1796560219045ULL, 77, "127.0.0.1:5000", "refused 400 Bad Request: \"x\"");
  CHECK(line ==
        "{\"time\":\"2026-12-06T12:30:19.045Z\",\"pid\":77,\"addr\":\"127.0.0.1:5000\","
        "\"msg\":\"refused 400 Bad Request: \\\"x\\\"\"}\n");
  if (g_failed) std::fprintf(stderr, "json: %s", line.c_str());
}

int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d) != nullptr) n++;
  closedir(d);
  return n;
}

int CountTempFiles(const std::string& dir) {
  int n = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  while (struct dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, "tsgi-body-", 10) == 0) n++;
  }
  closedir(d);
  return n;
}

std::string ReadFd(int fd, size_t n) {
  std::string s(n, '\0');
  ssize_t got = pread(fd, &s[0], n, 0);
  s.resize(got < 0 ? 0 : static_cast<size_t>(got));
  return s;
}

void TestBodySink() {
  char tmpl[] = "/tmp/tsgi-units-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  const int fds_before = CountOpenFds();
  {
    tsgi::BodySink sink;
    CHECK(sink.Begin(10, true, 16, dir) == 0);
    CHECK(sink.Append("0123456789", 10) == 0);
    CHECK(!sink.in_file() && sink.memory() == "0123456789" && sink.size() == 10);
    // A known length over the threshold goes to a file at once.
    CHECK(sink.Begin(100, true, 16, dir) == 0);
    CHECK(sink.in_file() && sink.size() == 0);
    std::string body(100, 'b');
    CHECK(sink.Append(body.data(), body.size()) == 0);
    CHECK(ReadFd(sink.fd(), 200) == body);
    CHECK(CountTempFiles(dir) == 0);  // unlinked from the start
    // An unknown length moves to a file when it grows past the threshold.
    CHECK(sink.Begin(0, false, 16, dir) == 0);
    CHECK(sink.Append("0123456789", 10) == 0);
    CHECK(!sink.in_file());
    CHECK(sink.Append("abcdefghij", 10) == 0);
    CHECK(sink.in_file() && sink.size() == 20);
    CHECK(ReadFd(sink.fd(), 100) == "0123456789abcdefghij");
    // Threshold 0: every body goes to a file.
    CHECK(sink.Begin(0, false, 0, dir) == 0);
    CHECK(sink.Append("x", 1) == 0 && sink.in_file());
    sink.Reset();
    CHECK(!sink.in_file() && sink.size() == 0);
    // A directory that does not exist: an error, not a crash, and what the log line
    // needs to say why: the call that failed and the directory.
    CHECK(sink.Begin(100, true, 16, dir + "/missing") == -ENOENT);
    CHECK(std::strcmp(sink.failed_call(), "open(O_TMPFILE)") == 0);
    CHECK(sink.tmp_dir() == dir + "/missing");
    // Not a directory: the same, with ENOTDIR. Found when the body grows past the
    // threshold (chunked), not at Begin.
    const std::string file = dir + "/a-file";
    const int ffd = open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(ffd >= 0);
    close(ffd);
    CHECK(sink.Begin(0, false, 4, file) == 0);
    CHECK(sink.Append("0123", 4) == 0);
    CHECK(sink.Append("4", 1) == -ENOTDIR);
    CHECK(std::strcmp(sink.failed_call(), "open(O_TMPFILE)") == 0);
    unlink(file.c_str());
  }
  CHECK(CountOpenFds() == fds_before);
  CHECK(CountTempFiles(dir) == 0);
  rmdir(dir.c_str());
}

// What a slot shows: the oldest request in progress (start and request line), busy
// while there is one, idle after the last; whatever order the requests end in.
void TestInProgress() {
  tsgi::ScoreboardSlot slot{};
  tsgi::InProgress list(&slot);
  tsgi::InProgressEntry hang, ok1, ok2;
  auto shows = [&](uint64_t start, const char* request) {
    return slot.request_start.load() == start && std::strcmp(slot.request, request) == 0 &&
           slot.status.load() == (start == 0 ? tsgi::kSlotIdle : tsgi::kSlotBusy);
  };
  list.Begin(&hang, 1000, "GET", 3, "/hang", 5);
  CHECK(shows(1000, "GET /hang") && list.size() == 1);
  // Newer requests start and end beside it: the slot keeps showing the oldest.
  list.Begin(&ok1, 2000, "GET", 3, "/ok", 3);
  CHECK(shows(1000, "GET /hang"));
  list.End(&ok1);
  CHECK(shows(1000, "GET /hang") && list.size() == 1);
  list.Begin(&ok1, 3000, "GET", 3, "/ok?1", 5);
  list.Begin(&ok2, 4000, "POST", 4, "/ok?2", 5);
  list.End(&ok2);  // the newest ends first
  CHECK(shows(1000, "GET /hang") && list.size() == 2);
  // The oldest ends: the next oldest is shown.
  list.End(&hang);
  CHECK(shows(3000, "GET /ok?1") && list.oldest() == &ok1);
  list.End(&hang);  // not in progress: nothing
  CHECK(list.size() == 1);
  list.End(&ok1);
  CHECK(shows(0, "GET /ok?1") && list.size() == 0 && list.oldest() == nullptr);
  // A request line longer than the slot's room is cut, and terminated.
  std::string uri(300, 'u');
  list.Begin(&ok2, 5000, "GET", 3, uri.data(), uri.size());
  CHECK(std::strlen(slot.request) == sizeof slot.request - 1);
  CHECK(std::string(slot.request, 4) == "GET " && slot.request[sizeof slot.request - 2] == 'u');
  list.End(&ok2);
  // Without a slot (no master) nothing is kept.
  tsgi::InProgress none;
  none.Begin(&hang, 1, "GET", 3, "/", 1);
  CHECK(none.size() == 0 && !hang.linked);
  none.End(&hang);
}

}  // namespace

int main() {
  TestHeaderVars();
  TestStripScriptName();
  TestKeyTable();
  TestLogLine();
  TestLogFilter();
  TestJsonLine();
  TestBodySink();
  TestInProgress();
  std::printf("units: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
