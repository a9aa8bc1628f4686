// Support code shared by the native test programs (parser-test, uwsgi-test,
// fuzz-parser, fuzz-uwsgi): the guard-page buffer, a tiny JSON reader for the
// corpus files, the pass/fail bookkeeping and corpus walk of the corpus tests, and
// the failure handling and standalone mutation driver of the fuzz targets. Each part
// is a header of its own (support-buffer.h, support-json.h, support-corpus.h,
// support-fuzz.h); this one includes them all.
//
// Header-only: every function is inline and every global an inline variable, so a
// program that does not use a part pays nothing for it and gets no unused-function
// warning (the build is -Wall -Wextra -Werror, and -Wpedantic -Wshadow -Wconversion
// for the uwsgi programs, which this header is held to as well).
#ifndef TSGI_TEST_NATIVE_SUPPORT_H_
#define TSGI_TEST_NATIVE_SUPPORT_H_

#include "support-buffer.h"  // standard headers, GuardBuffer, ReadFile, Printable
#include "support-json.h"    // Json, JsonReader
#include "support-corpus.h"  // CHECK, FAIL_IF, Report, RunCorpus, CorpusTestMain
#include "support-fuzz.h"    // BeginInput/EndInput, MutateBytes, FuzzMain

#endif  // TSGI_TEST_NATIVE_SUPPORT_H_
