#!/bin/sh
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into
# build/asan/tsgi.node, for npm test's second pass: the JavaScript suites run against
# it (TSGI_NATIVE_ADDON) with libasan preloaded into node, so that the server's own
# memory errors (not only the parsers') fail the tests.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p build/asan
addon_api=$(node -p "require('node-addon-api').include_dir")
# The sources are binding.gyp's, so that the two builds cannot drift apart (a source
# missing here loads, then fails at its first call with an undefined symbol).
sources=$(node -p "JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0].sources.join(' ')")
${CXX:-g++} -std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -shared -fPIC -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wno-missing-field-initializers -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS \
  -DNODE_ADDON_API_DISABLE_DEPRECATED -Inative -I/usr/include/node -I"$addon_api" \
  $sources -o build/asan/tsgi.node
