// Unit tests of native/protocol/response.cc, the response framing: the bytes a head
// and a body become for each framing send() can ask (length, chunked, neither), for
// keep-alive and close, HTTP/1.1 and HTTP/1.0, and the heads lib/contract/exchange.ts sends
// without a body (HEAD, 204, 304). Built with ASan/UBSan by run.sh.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "protocol/response.h"
#include "wire.h"

#include "support.h"

namespace {

using tsgi::Framing;
using tsgi::FramingOf;
using tsgi::HeadFacts;

using tsgi::test::g_failed;
using tsgi::test::g_passed;

void CheckBytes(const std::string& got, const std::string& want, int line) {
  if (got == want) {
    g_passed++;
    return;
  }
  g_failed++;
  std::fprintf(stderr, "FAIL line %d: got\n%s\nwanted\n%s\n", line, got.c_str(), want.c_str());
}
#define CHECK_BYTES(got, want) CheckBytes((got), (want), __LINE__)

// The request a response answers.
struct Request {
  bool keep_alive = true;
  bool http10 = false;
  bool closing = false;  // the server is closing
};

// One send(head, body, flags) call's bytes, in native/server/send.cc's order: the
// head (when given) with its framing, then the body as the framing asks, then the
// last chunk when the call ends a chunked response. *chunked carries over from the
// call with the head to the later ones, as Connection::chunked_response does.
std::string Send(const char* head, const std::string& body, uint32_t flags, const Request& r,
                 bool* chunked, HeadFacts* facts = nullptr) {
  std::string out;
  const Framing f = FramingOf(flags, r.keep_alive, r.http10, r.closing);
  if (head != nullptr) {
    const size_t start = tsgi::BeginHead(&out);
    out += head;
    const HeadFacts got = tsgi::EndHead(&out, start, f, body.size());
    if (facts != nullptr) *facts = got;
    *chunked = f.chunked;
  }
  if (f.add_length) {
    out += body;
  } else if (f.chunked) {
    tsgi::AppendChunk(&out, body.data(), body.size());
  } else {
    out += body;
  }
  if ((flags & tsgi::kSendEnd) && *chunked) tsgi::AppendLastChunk(&out);
  return out;
}

void TestLength() {
  Request r;
  bool chunked = false;
  HeadFacts facts;
  const std::string got = Send("200 OK\r\nContent-Type: text/plain\r\n", "Hello, World!\n",
                               tsgi::kSendAddLength | tsgi::kSendEnd, r, &chunked, &facts);
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n";
  CHECK_BYTES(got, head + "Hello, World!\n");
  CHECK(facts.status == 200);
  CHECK(facts.header_count == 2);
  CHECK(facts.head_bytes == head.size());
  CHECK(!chunked);

  // An empty body has a length too.
  CHECK_BYTES(Send("200 OK\r\n", "", tsgi::kSendAddLength | tsgi::kSendEnd, r, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

void TestKeepAliveAndClose() {
  const uint32_t flags = tsgi::kSendAddLength | tsgi::kSendEnd;
  bool chunked = false;
  HeadFacts facts;
  Request http10;
  http10.http10 = true;
  // HTTP/1.0 keeps the connection only when the response says so.
  CHECK_BYTES(Send("200 OK\r\n", "x", flags, http10, &chunked, &facts),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\nx");
  CHECK(facts.header_count == 2);
  Request http10_close = http10;
  http10_close.keep_alive = false;
  CHECK_BYTES(Send("200 OK\r\n", "x", flags, http10_close, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  // HTTP/1.1: keep-alive is the default and goes unsaid; a close is said.
  Request r;
  CHECK_BYTES(Send("200 OK\r\n", "x", flags, r, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
  Request no_keep_alive;
  no_keep_alive.keep_alive = false;  // "Connection: close" in the request
  CHECK_BYTES(Send("200 OK\r\n", "x", flags, no_keep_alive, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  CHECK_BYTES(Send("200 OK\r\n", "x", flags | tsgi::kSendClose, r, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  Request closing;
  closing.closing = true;
  CHECK_BYTES(Send("200 OK\r\n", "x", flags, closing, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  Request closing10 = http10;
  closing10.closing = true;  // a close wins over HTTP/1.0's keep-alive
  CHECK_BYTES(Send("200 OK\r\n", "x", flags, closing10, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
}

void TestChunked() {
  Request r;
  bool chunked = false;
  HeadFacts facts;
  CHECK_BYTES(Send("200 OK\r\nContent-Type: text/plain\r\n", "abc", tsgi::kSendChunked, r,
                   &chunked, &facts),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n");
  CHECK(chunked);
  CHECK(facts.header_count == 2);
  // Later calls: the size in hex; an empty call writes nothing (an empty chunk would
  // end the body); the end writes the last chunk.
  CHECK_BYTES(Send(nullptr, std::string(26, 'z'), tsgi::kSendChunked, r, &chunked),
              "1a\r\n" + std::string(26, 'z') + "\r\n");
  CHECK_BYTES(Send(nullptr, "", tsgi::kSendChunked, r, &chunked), "");
  CHECK_BYTES(Send(nullptr, std::string(4096, 'y'), tsgi::kSendChunked | tsgi::kSendEnd, r,
                   &chunked),
              "1000\r\n" + std::string(4096, 'y') + "\r\n0\r\n\r\n");
  CHECK_BYTES(Send(nullptr, "", tsgi::kSendChunked | tsgi::kSendEnd, r, &chunked),
              "0\r\n\r\n");
  // A chunked head with its end at once (a streamed body that turned out empty).
  chunked = false;
  CHECK_BYTES(Send("200 OK\r\n", "", tsgi::kSendChunked | tsgi::kSendEnd, r, &chunked),
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  // Chunked and a close (the server closing): both said.
  Request closing;
  closing.closing = true;
  chunked = false;
  CHECK_BYTES(Send("200 OK\r\n", "ab", tsgi::kSendChunked, closing, &chunked),
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
              "2\r\nab\r\n");
}

// Neither length nor chunks: an HTTP/1.0 client's streamed body, which the close ends
// (lib asks kSendClose), and a body whose length the application gave.
void TestUnframed() {
  Request http10;
  http10.http10 = true;
  bool chunked = false;
  CHECK_BYTES(Send("200 OK\r\n", "part", tsgi::kSendClose, http10, &chunked),
              "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart");
  CHECK_BYTES(Send(nullptr, "more", tsgi::kSendClose | tsgi::kSendEnd, http10, &chunked),
              "more");
  Request r;
  CHECK_BYTES(Send("200 OK\r\nContent-Length: 4\r\n", "body", tsgi::kSendEnd, r, &chunked),
              "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody");
}

// What lib/contract/exchange.ts sends without a body: HEAD (with the length the GET would
// have had, as its own header line), 204 and 304. No framing line is added but
// Connection.
void TestNoBody() {
  Request r;
  bool chunked = false;
  HeadFacts facts;
  CHECK_BYTES(Send("200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n", "",
                   tsgi::kSendEnd, r, &chunked, &facts),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n");
  CHECK(facts.header_count == 2);
  CHECK_BYTES(Send("204 No Content\r\n", "", tsgi::kSendEnd, r, &chunked, &facts),
              "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(facts.status == 204);
  CHECK(facts.header_count == 0);
  CHECK(facts.head_bytes == 27);
  Request http10;
  http10.http10 = true;
  CHECK_BYTES(Send("304 Not Modified\r\nETag: \"x\"\r\n", "", tsgi::kSendEnd, http10, &chunked,
                   &facts),
              "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nConnection: keep-alive\r\n\r\n");
  CHECK(facts.status == 304);
  CHECK(facts.header_count == 2);
  CHECK(!chunked);
}

void TestHeadFacts() {
  // A head too short to hold a status reads as status 0, not past its end.
  std::string out;
  size_t start = tsgi::BeginHead(&out);
  out += "20";
  HeadFacts facts = tsgi::EndHead(&out, start, Framing{}, 0);
  CHECK(facts.status == 0);
  CHECK(facts.header_count == 0);
  CHECK_BYTES(out, "HTTP/1.1 20\r\n");
  // A head appended after earlier output counts from its own start.
  out = "earlier bytes\n\n";
  start = tsgi::BeginHead(&out);
  out += "500 Internal Server Error\r\nX-A: 1\r\nX-B: 2\r\n";
  facts = tsgi::EndHead(&out, start, Framing{}, 0);
  CHECK(facts.status == 500);
  CHECK(facts.header_count == 2);
  CHECK(facts.head_bytes == out.size() - 15);
}

void TestFramingOf() {
  Framing f = FramingOf(0, true, false, false);
  CHECK(!f.add_length && !f.chunked && !f.close && !f.http10);
  f = FramingOf(tsgi::kSendAddLength | tsgi::kSendChunked, true, true, false);
  CHECK(f.add_length && f.chunked && !f.close && f.http10);
  CHECK(FramingOf(tsgi::kSendClose, true, false, false).close);
  CHECK(FramingOf(0, false, false, false).close);
  CHECK(FramingOf(0, true, false, true).close);
  // kSendEnd and kSendAbort do not frame.
  f = FramingOf(tsgi::kSendEnd | tsgi::kSendAbort, true, false, false);
  CHECK(!f.add_length && !f.chunked && !f.close);
}

void TestRefusals() {
  std::string out;
  tsgi::AppendRefusal(&out, 413);
  CHECK_BYTES(out,
              "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain\r\n"
              "Content-Length: 18\r\nConnection: close\r\n\r\nContent Too Large\n");
  for (int status : tsgi::kRefusalStatuses) {
    CHECK(std::strcmp(tsgi::RefusalText(status), "Error") != 0);
  }
  out.clear();
  tsgi::AppendRefusal(&out, 599);
  CHECK_BYTES(out,
              "HTTP/1.1 599 Error\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
              "Connection: close\r\n\r\nError\n");
  CHECK_BYTES(std::string(tsgi::kContinueResponse), "HTTP/1.1 100 Continue\r\n\r\n");
}

void TestDecimal() {
  std::string out;
  tsgi::AppendDecimal(&out, 0);
  out += ' ';
  tsgi::AppendDecimal(&out, UINT64_MAX);
  CHECK_BYTES(out, "0 18446744073709551615");
}

}  // namespace

int main() {
  TestLength();
  TestKeepAliveAndClose();
  TestChunked();
  TestUnframed();
  TestNoBody();
  TestHeadFacts();
  TestFramingOf();
  TestRefusals();
  TestDecimal();
  std::printf("response: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
