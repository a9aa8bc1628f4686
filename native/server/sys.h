// tsgi — small system helpers the server's files share: errno in words, the wall clock.
#ifndef TSGI_NATIVE_SERVER_SYS_H_
#define TSGI_NATIVE_SERVER_SYS_H_

#include <cstdint>
#include <string>

namespace tsgi {

// "No such file or directory (ENOENT)": uWSGI's wording of an errno, and its name,
// which is what an operator searches for.
std::string DescribeErrno(int err);

// The wall clock, in milliseconds since the epoch.
uint64_t WallMillis();

}  // namespace tsgi

#endif  // TSGI_NATIVE_SERVER_SYS_H_
