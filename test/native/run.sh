#!/bin/sh
# Builds and runs the native parser tests under ASan/UBSan:
#   build/native-test/parser-test  — the corpus in test/requests + unit tests
#   build/native-test/fuzz-parser  — mutations of that corpus for FUZZ_SECONDS
#                                    seconds (default 15; FUZZ_ITERATIONS and
#                                    FUZZ_SEED also apply)
#   build/native-test/uwsgi-test   — the uwsgi packet corpus in test/uwsgi + unit tests
#   build/native-test/fuzz-uwsgi   — mutations of that corpus for FUZZ_UWSGI_SECONDS
#                                    seconds (default 5)
#   build/native-test/proxy-test   — the PROXY protocol corpus in test/requests/proxy
#   build/native-test/fuzz-proxy   — mutations of that corpus for FUZZ_PROXY_SECONDS
#                                    seconds (default 5)
#   build/native-test/response-test — the response framing (native/protocol/response.cc)
#   build/native-test/websocket-test — the WebSocket frame corpus in test/websocket + unit tests
#   build/native-test/fuzz-websocket — mutations of that corpus for FUZZ_WEBSOCKET_SECONDS
#                                    seconds (default 5)
# Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/../.."
out=build/native-test
mkdir -p "$out"
CXX=${CXX:-g++}
flags="-Inative -std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The uwsgi, PROXY and WebSocket parsers, the response framing and their tests are held to
# stricter warnings.
uflags="$flags -Wpedantic -Wshadow -Wconversion"

# Compile the programs in parallel.
$CXX $flags native/protocol/http_parser.cc test/native/parser-test.cc -o "$out/parser-test" &
p1=$!
$CXX $flags native/protocol/http_parser.cc test/native/fuzz-parser.cc -o "$out/fuzz-parser" &
p2=$!
$CXX $flags native/protocol/http_parser.cc native/protocol/cgi_vars.cc native/protocol/key_table.cc native/protocol/request_log.cc \
  native/protocol/body_sink.cc native/process/scoreboard.cc test/native/units-test.cc -o "$out/units-test" &
p3=$!
$CXX $uflags native/protocol/uwsgi_parser.cc test/native/uwsgi-test.cc -o "$out/uwsgi-test" &
p4=$!
$CXX $uflags native/protocol/uwsgi_parser.cc test/native/fuzz-uwsgi.cc -o "$out/fuzz-uwsgi" &
p5=$!
$CXX $uflags native/protocol/proxy_parser.cc test/native/proxy-test.cc -o "$out/proxy-test" &
p6=$!
$CXX $uflags native/protocol/proxy_parser.cc test/native/fuzz-proxy.cc -o "$out/fuzz-proxy" &
p7=$!
$CXX $uflags native/protocol/response.cc test/native/response-test.cc -o "$out/response-test" &
p8=$!
$CXX $uflags -Itest/native native/protocol/websocket_parser.cc test/native/websocket-test.cc -o "$out/websocket-test" &
p9=$!
$CXX $uflags -Itest/native native/protocol/websocket_parser.cc test/native/fuzz-websocket.cc -o "$out/fuzz-websocket" &
p10=$!
rc=0
wait $p1 || rc=1
wait $p2 || rc=1
wait $p3 || rc=1
wait $p4 || rc=1
wait $p5 || rc=1
wait $p6 || rc=1
wait $p7 || rc=1
wait $p8 || rc=1
wait $p9 || rc=1
wait $p10 || rc=1
if [ $rc -ne 0 ]; then
  echo "native tests: build failed" >&2
  exit 1
fi

"$out/parser-test" test/requests
"$out/units-test"
"$out/response-test"
"$out/uwsgi-test" test/uwsgi
"$out/proxy-test" test/requests/proxy
"$out/websocket-test" test/websocket

# The fuzzers, on two cores: the HTTP parser's alone, the three others one after another
# beside it (each is one thread; one after another they took 30 s).
FUZZ_SECONDS=${FUZZ_SECONDS:-15} FUZZ_ARTIFACT=${FUZZ_ARTIFACT:-$out/fuzz-failure.http} \
  "$out/fuzz-parser" test/requests/valid test/requests/invalid &
fuzz_http=$!
rc=0
FUZZ_SECONDS=${FUZZ_UWSGI_SECONDS:-5} FUZZ_ARTIFACT=${FUZZ_UWSGI_ARTIFACT:-$out/fuzz-failure.uwsgi} \
  "$out/fuzz-uwsgi" test/uwsgi/valid test/uwsgi/invalid || rc=1
FUZZ_SECONDS=${FUZZ_PROXY_SECONDS:-5} FUZZ_ARTIFACT=${FUZZ_PROXY_ARTIFACT:-$out/fuzz-failure.proxy} \
  "$out/fuzz-proxy" test/requests/proxy/valid test/requests/proxy/invalid || rc=1
FUZZ_SECONDS=${FUZZ_WEBSOCKET_SECONDS:-5} FUZZ_ARTIFACT=${FUZZ_WEBSOCKET_ARTIFACT:-$out/fuzz-failure.ws} \
  "$out/fuzz-websocket" test/websocket/valid test/websocket/invalid || rc=1
wait $fuzz_http || rc=1
exit $rc
