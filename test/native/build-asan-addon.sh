#!/bin/sh
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into
# build/asan/tsgi.node, for npm test's second pass: the JavaScript suites run against
# it (TSGI_NATIVE_ADDON) with libasan preloaded into node, so that the server's own
# memory errors (not only the parsers') fail the tests.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p build/asan
addon_api=$(node -p "require('node-addon-api').include_dir")
${CXX:-g++} -std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -shared -fPIC -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wno-missing-field-initializers -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS \
  -DNODE_ADDON_API_DISABLE_DEPRECATED -I/usr/include/node -I"$addon_api" \
  native/addon.cc native/http_parser.cc native/cgi_vars.cc native/key_table.cc \
  native/uwsgi_parser.cc native/scoreboard.cc native/master.cc native/sockets.cc \
  native/request_log.cc native/body_sink.cc native/server.cc -o build/asan/tsgi.node
