// The framed channel's reader: runtime::decode_header on the first 176 bytes, and whole frames
// read from a socketpair holding the input (the payload path, truncations, a clean end). A
// header that decodes must encode back to the same bytes.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "fuzz/fuzz_common.hpp"
#include "partplan/runtime/wire.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  runtime::FrameLimits limits;
  limits.max_payload_bytes = 1 << 16;
  if (size >= runtime::kHeaderBytes) {
    try {
      const auto h = runtime::decode_header(data, runtime::kHeaderBytes, limits);
      const auto back = runtime::encode_header(h);
      if (std::memcmp(back.data(), data, runtime::kHeaderBytes) != 0)
        fuzz::contract_broken("a decoded header does not encode back to its bytes");
    } catch (const Error&) {
    }
  }
  int fds[2];
  if (size > 60000 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  size_t off = 0;
  while (off < size) {
    const ssize_t w = ::write(fds[0], data + off, size - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  ::close(fds[0]);
  try {
    const runtime::Channel in(fds[1], "the fuzzer");
    for (int frames = 0; frames < 64; ++frames)
      if (!in.receive(limits, 0, 1000)) break;
  } catch (const Error&) {
  }
  ::close(fds[1]);
  return 0;
}
