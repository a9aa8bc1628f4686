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
flags="-std=c++17 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fPIC -Wall -Wextra -Werror -Wno-unused-parameter \
  -Wno-missing-field-initializers -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS \
  -DNODE_ADDON_API_DISABLE_DEPRECATED -Inative -I/usr/include/node -I$addon_api"
# One compiler a source, as many at once as there are cores (one g++ for them all took
# twice as long on CI's two cores), then one link.
rm -rf build/asan/obj
mkdir -p build/asan/obj
export CXX="${CXX:-g++}" flags
printf '%s\n' $sources | xargs -P "$(nproc)" -I{} sh -c 'o=build/asan/obj/$(echo "$1" | tr / _).o; exec $CXX $flags -c "$1" -o "$o"' sh {}
$CXX $flags -shared build/asan/obj/*.o -o build/asan/tsgi.node
