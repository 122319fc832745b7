#pragma once
// The framed channel between `partplan run`'s processes (docs/runtime.md, "Wire format").
// Every message is one frame: a fixed 176-byte little-endian header, then `length` payload
// bytes. The receiver checks the whole header against its limits before it reads or acts on
// a single payload byte, so a malformed or oversized frame is refused with nothing executed.
// Torch-free: payloads are raw bytes, and the worker turns them into tensors.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "partplan/common/error.hpp"

namespace partplan::runtime {

/// "PPRT" as a little-endian u32, the first four bytes of every frame.
inline constexpr uint32_t kWireMagic = 0x54525050u;
/// Bumped on any change of the header's layout or meaning; a receiver refuses other versions.
inline constexpr uint16_t kWireVersion = 1;
inline constexpr size_t kHeaderBytes = 176;
inline constexpr int kMaxDims = 8;
/// Slots of per-stage compute time and per-hop transfer time a request carries (a ternary
/// split has three stages and four hops: client, front, middle, back, client).
inline constexpr int kMaxStages = 4;

/// A malformed, oversized or truncated frame, or a channel that failed (exit 1).
class WireError : public Error {
 public:
  explicit WireError(const std::string& m) : Error(m, kExitRuntime) {}
};

enum class FrameKind : uint8_t {
  kTensor = 1,    ///< a request's tensor; payload = the tensor's bytes, row-major
  kError = 2,     ///< a stage failed on this request; payload = a one-line UTF-8 message
  kShutdown = 3,  ///< no more requests: finish, pass it on, exit
  kControl = 4,   ///< worker -> client: a one-line UTF-8 status ("ready ...")
};

enum class WireDtype : uint8_t { kNone = 0, kFloat32 = 1, kUInt8 = 2 };

/// Bytes per element of `d` (kNone: 1, for text payloads).
size_t dtype_bytes(WireDtype d);

struct FrameHeader {
  uint32_t magic = kWireMagic;
  uint16_t version = kWireVersion;
  FrameKind kind = FrameKind::kTensor;
  WireDtype dtype = WireDtype::kFloat32;
  uint64_t sequence = 0;  ///< the request id, 0-based, in the client's order
  std::vector<int64_t> shape;  ///< at most kMaxDims dims, each >= 0; empty for text frames
  uint64_t length = 0;         ///< payload bytes
  /// CLOCK_MONOTONIC nanoseconds when the sender began to write this frame (the clock is
  /// shared by the processes of one machine), for the receiver's hop time.
  uint64_t sent_ns = 0;
  std::array<uint64_t, kMaxStages> stage_ns{};  ///< compute time of each stage on this request
  std::array<uint64_t, kMaxStages> hop_ns{};    ///< send start to receipt of each hop
};

/// What a receiver accepts. A frame outside these is refused (WireError) before its payload
/// is read.
struct FrameLimits {
  uint64_t max_payload_bytes = uint64_t{64} << 20;
  /// Tensor frames: the per-sample shape expected (dims after the batch); empty = any.
  std::vector<int64_t> sample_shape;
  int64_t max_batch = 1024;
  WireDtype dtype = WireDtype::kFloat32;
};

/// The header as its 176 wire bytes. Throws WireError if `h` itself is invalid (too many
/// dims, a negative dim, a length that is not the shape's bytes for a tensor frame).
std::array<uint8_t, kHeaderBytes> encode_header(const FrameHeader& h);

/// Parse and check 176 header bytes against `limits`. Throws WireError naming the field and
/// its value: bad magic, another version, an unknown kind or dtype, non-zero reserved bytes,
/// too many or negative dims, a tensor frame whose shape is not [B, sample_shape...] with
/// 1 <= B <= max_batch, a length that is not the shape's bytes, or one above the limit.
FrameHeader decode_header(const uint8_t* bytes, size_t size, const FrameLimits& limits);

struct Frame {
  FrameHeader header;
  std::vector<uint8_t> payload;
  /// The payload of an error or control frame, as text.
  std::string text() const { return std::string(payload.begin(), payload.end()); }
};

/// A frame whose payload is `text` (error and control frames).
Frame text_frame(FrameKind kind, uint64_t sequence, const std::string& text);

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t monotonic_ns();

/// One end of a stream socket (a socketpair): whole frames out and in. Not thread-safe; one
/// reader and one writer thread may use the two directions at once. Does not own the fd.
class Channel {
 public:
  Channel(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  /// Write a whole frame, stamping its sent_ns. Throws WireError when the peer
  /// is gone (EPIPE: no SIGPIPE is raised) or the write fails.
  void send(Frame frame) const;
  /// Read one frame checked against `limits`. Returns nullopt on a clean end of stream at a
  /// frame boundary; throws WireError on a truncated or refused frame, or when `timeout_ms`
  /// (>= 0) passes before the header, or again before the payload, is complete. Fills the frame's hop time into hop_ns[hop] when
  /// 0 <= hop < kMaxStages.
  std::optional<Frame> receive(const FrameLimits& limits, int hop = -1, int timeout_ms = -1) const;
  int fd() const { return fd_; }
  const std::string& peer() const { return peer_; }

 private:
  int fd_;
  std::string peer_;  ///< for messages: "the enclave worker"
};

}  // namespace partplan::runtime
