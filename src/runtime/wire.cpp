// The framed channel: header layout (encode/decode, every field checked on receipt) and whole
// frames over a stream socket. Layout, little-endian, 176 bytes:
//   0 magic u32 | 4 version u16 | 6 kind u8 | 7 dtype u8 | 8 sequence u64 | 16 ndim u32 |
//   20 reserved u32 (0) | 24 shape i64[8] | 88 length u64 | 96 sent_ns u64 |
//   104 stage_ns u64[4] | 136 hop_ns u64[4] | 168 reserved u64 (0)
// A new field takes reserved space or a new version; a receiver never guesses.
#include "partplan/runtime/wire.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace partplan::runtime {
namespace {

void put_u16(uint8_t* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool known_kind(uint8_t k) { return k >= 1 && k <= 4; }
bool known_dtype(uint8_t d) { return d <= 2; }

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

/// Bytes of a tensor of `shape` and `dtype`, or nullopt when it overflows 64 bits.
std::optional<uint64_t> tensor_bytes(const std::vector<int64_t>& shape, WireDtype dtype) {
  uint64_t n = dtype_bytes(dtype);
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d)) return std::nullopt;
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

const char* kind_name(FrameKind k) {
  switch (k) {
    case FrameKind::kTensor: return "tensor";
    case FrameKind::kError: return "error";
    case FrameKind::kShutdown: return "shutdown";
    case FrameKind::kControl: return "control";
  }
  return "?";
}

/// Read exactly `n` bytes. Returns the bytes read before a clean end of stream (< n) or n;
/// throws WireError on a read error, or when `timeout_ms` (>= 0) passes before the last byte
/// (a peer that stalls inside a frame cannot hang the reader).
size_t read_full(int fd, uint8_t* p, size_t n, int timeout_ms, const std::string& peer) {
  size_t got = 0;
  const uint64_t deadline = timeout_ms >= 0 ? monotonic_ns() + static_cast<uint64_t>(timeout_ms) * 1000000ull : 0;
  while (got < n) {
    if (timeout_ms >= 0) {
      const uint64_t now = monotonic_ns();
      const int left = now >= deadline ? 0 : static_cast<int>((deadline - now) / 1000000ull);
      pollfd pfd{fd, POLLIN, 0};
      const int r = ::poll(&pfd, 1, left);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0)
        throw WireError(got == 0 ? fmt::format("no frame from {} within {} ms", peer, timeout_ms)
                                 : fmt::format("{} stalled inside a frame ({} of {} bytes after {} ms)", peer, got, n,
                                               timeout_ms));
    }
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw WireError(fmt::format("reading from {} failed: {}", peer, std::strerror(errno)));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

void write_full(int fd, const uint8_t* p, size_t n, const std::string& peer) {
  while (n > 0) {
    const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      throw WireError(errno == EPIPE || errno == ECONNRESET
                          ? fmt::format("{} is gone (its end of the channel closed)", peer)
                          : fmt::format("writing to {} failed: {}", peer, std::strerror(errno)));
    p += r;
    n -= static_cast<size_t>(r);
  }
}

}  // namespace

size_t dtype_bytes(WireDtype d) { return d == WireDtype::kFloat32 ? 4 : 1; }

std::array<uint8_t, kHeaderBytes> encode_header(const FrameHeader& h) {
  if (h.shape.size() > static_cast<size_t>(kMaxDims))
    throw WireError(fmt::format("a frame holds at most {} dims, not {}", kMaxDims, h.shape.size()));
  if (h.kind == FrameKind::kTensor) {
    const auto bytes = tensor_bytes(h.shape, h.dtype);
    if (!bytes || *bytes != h.length)
      throw WireError(fmt::format("tensor frame {}: shape {} does not make {} bytes", h.sequence, shape_text(h.shape),
                                  h.length));
  }
  std::array<uint8_t, kHeaderBytes> b{};
  put_u32(&b[0], h.magic);
  put_u16(&b[4], h.version);
  b[6] = static_cast<uint8_t>(h.kind);
  b[7] = static_cast<uint8_t>(h.dtype);
  put_u64(&b[8], h.sequence);
  put_u32(&b[16], static_cast<uint32_t>(h.shape.size()));
  for (size_t i = 0; i < h.shape.size(); ++i) put_u64(&b[24 + 8 * i], static_cast<uint64_t>(h.shape[i]));
  put_u64(&b[88], h.length);
  put_u64(&b[96], h.sent_ns);
  for (int i = 0; i < kMaxStages; ++i) {
    put_u64(&b[104 + 8 * i], h.stage_ns[i]);
    put_u64(&b[136 + 8 * i], h.hop_ns[i]);
  }
  return b;
}

FrameHeader decode_header(const uint8_t* b, size_t size, const FrameLimits& limits) {
  if (size != kHeaderBytes) throw WireError(fmt::format("a frame header is {} bytes, not {}", kHeaderBytes, size));
  FrameHeader h;
  h.magic = get_u32(&b[0]);
  if (h.magic != kWireMagic)
    throw WireError(fmt::format("bad frame magic 0x{:08x} (expected 0x{:08x}): not a partplan frame", h.magic,
                                kWireMagic));
  h.version = get_u16(&b[4]);
  if (h.version != kWireVersion)
    throw WireError(fmt::format("frame version {} (this partplan speaks {}): run both ends from one build", h.version,
                                kWireVersion));
  if (!known_kind(b[6])) throw WireError(fmt::format("unknown frame kind {}", b[6]));
  if (!known_dtype(b[7])) throw WireError(fmt::format("unknown frame dtype {}", b[7]));
  h.kind = static_cast<FrameKind>(b[6]);
  h.dtype = static_cast<WireDtype>(b[7]);
  h.sequence = get_u64(&b[8]);
  const uint32_t ndim = get_u32(&b[16]);
  if (ndim > static_cast<uint32_t>(kMaxDims))
    throw WireError(fmt::format("frame {}: {} dims (at most {})", h.sequence, ndim, kMaxDims));
  if (get_u32(&b[20]) != 0 || get_u64(&b[168]) != 0)
    throw WireError(fmt::format("frame {}: reserved header bytes are not zero", h.sequence));
  for (uint32_t i = 0; i < ndim; ++i) {
    const auto d = static_cast<int64_t>(get_u64(&b[24 + 8 * i]));
    if (d < 0) throw WireError(fmt::format("frame {}: dim {} is {}", h.sequence, i, d));
    h.shape.push_back(d);
  }
  for (uint32_t i = ndim; i < static_cast<uint32_t>(kMaxDims); ++i)
    if (get_u64(&b[24 + 8 * i]) != 0) throw WireError(fmt::format("frame {}: unused dim {} is not zero", h.sequence, i));
  h.length = get_u64(&b[88]);
  h.sent_ns = get_u64(&b[96]);
  for (int i = 0; i < kMaxStages; ++i) {
    h.stage_ns[i] = get_u64(&b[104 + 8 * i]);
    h.hop_ns[i] = get_u64(&b[136 + 8 * i]);
  }
  if (h.length > limits.max_payload_bytes)
    throw WireError(fmt::format("frame {} ({}) carries {} bytes, above the limit of {}", h.sequence, kind_name(h.kind),
                                h.length, limits.max_payload_bytes));
  if (h.kind != FrameKind::kTensor) {
    if (!h.shape.empty() || h.dtype != WireDtype::kNone)
      throw WireError(fmt::format("frame {} ({}) has a shape or dtype", h.sequence, kind_name(h.kind)));
    return h;
  }
  if (h.dtype != limits.dtype)
    throw WireError(fmt::format("tensor frame {} has dtype {}, expected {}", h.sequence, static_cast<int>(h.dtype),
                                static_cast<int>(limits.dtype)));
  if (h.shape.empty() || h.shape[0] < 1 || h.shape[0] > limits.max_batch)
    throw WireError(fmt::format("tensor frame {}: shape {} needs a batch of 1 to {}", h.sequence, shape_text(h.shape),
                                limits.max_batch));
  if (!limits.sample_shape.empty() &&
      std::vector<int64_t>(h.shape.begin() + 1, h.shape.end()) != limits.sample_shape)
    throw WireError(fmt::format("tensor frame {}: shape {} is not [B,{}]", h.sequence, shape_text(h.shape),
                                shape_text(limits.sample_shape).substr(1)));
  const auto bytes = tensor_bytes(h.shape, h.dtype);
  if (!bytes || *bytes != h.length)
    throw WireError(fmt::format("tensor frame {}: length {} is not the {} bytes of shape {}", h.sequence, h.length,
                                bytes ? *bytes : 0, shape_text(h.shape)));
  return h;
}

Frame text_frame(FrameKind kind, uint64_t sequence, const std::string& text) {
  Frame f;
  f.header.kind = kind;
  f.header.dtype = WireDtype::kNone;
  f.header.sequence = sequence;
  f.payload.assign(text.begin(), text.end());
  f.header.length = f.payload.size();
  return f;
}

uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void Channel::send(Frame frame) const {
  frame.header.length = frame.payload.size();
  frame.header.sent_ns = monotonic_ns();
  const auto head = encode_header(frame.header);
  write_full(fd_, head.data(), head.size(), peer_);
  if (!frame.payload.empty()) write_full(fd_, frame.payload.data(), frame.payload.size(), peer_);
}

std::optional<Frame> Channel::receive(const FrameLimits& limits, int hop, int timeout_ms) const {
  std::array<uint8_t, kHeaderBytes> head{};
  const size_t got = read_full(fd_, head.data(), head.size(), timeout_ms, peer_);
  if (got == 0) return std::nullopt;
  if (got < head.size())
    throw WireError(fmt::format("{} closed the channel inside a frame header ({} of {} bytes)", peer_, got,
                                head.size()));
  Frame f;
  f.header = decode_header(head.data(), head.size(), limits);
  f.payload.resize(f.header.length);
  if (read_full(fd_, f.payload.data(), f.payload.size(), timeout_ms, peer_) < f.payload.size())
    throw WireError(fmt::format("{} closed the channel inside frame {} ({} payload bytes announced)", peer_,
                                f.header.sequence, f.header.length));
  if (hop >= 0 && hop < kMaxStages && f.header.sent_ns != 0) {
    const uint64_t now = monotonic_ns();
    f.header.hop_ns[hop] = now > f.header.sent_ns ? now - f.header.sent_ns : 0;
  }
  return f;
}

}  // namespace partplan::runtime
