// The framed channel: header bytes with known answers, every refusal, and whole frames over a
// socketpair (a truncated or oversized frame refused before its payload is read).
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "partplan/runtime/wire.hpp"

using namespace partplan::runtime;

namespace {

FrameHeader tensor_header(std::vector<int64_t> shape) {
  FrameHeader h;
  h.sequence = 7;
  h.shape = std::move(shape);
  uint64_t n = 4;
  for (auto d : h.shape) n *= static_cast<uint64_t>(d);
  h.length = n;
  return h;
}

FrameLimits limits_for(std::vector<int64_t> sample) {
  FrameLimits l;
  l.sample_shape = std::move(sample);
  return l;
}

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    a = fds[0], b = fds[1];
  }
  ~Pair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

}  // namespace

TEST_CASE("a frame header has its documented bytes", "[runtime][wire]") {
  auto h = tensor_header({2, 3});
  h.sent_ns = 0x0102030405060708ull;
  h.stage_ns[1] = 5;
  const auto b = encode_header(h);
  REQUIRE(b.size() == 176);
  CHECK(std::memcmp(b.data(), "PPRT", 4) == 0);  // the magic reads as text
  CHECK(b[4] == 1);                                // version 1, little-endian
  CHECK(b[6] == 1);                                // tensor
  CHECK(b[7] == 1);                                // float32
  CHECK(b[8] == 7);                                // sequence
  CHECK(b[16] == 2);                               // ndim
  CHECK(b[24] == 2);
  CHECK(b[32] == 3);
  CHECK(b[88] == 24);  // 2*3*4 bytes
  CHECK(b[96] == 0x08);
  CHECK(b[103] == 0x01);
  CHECK(b[112] == 5);  // stage_ns[1]
  const auto back = decode_header(b.data(), b.size(), limits_for({3}));
  CHECK(back.sequence == 7);
  CHECK(back.shape == std::vector<int64_t>{2, 3});
  CHECK(back.length == 24);
  CHECK(back.sent_ns == h.sent_ns);
  CHECK(back.stage_ns[1] == 5);
}

TEST_CASE("a malformed header is refused, naming the field", "[runtime][wire]") {
  const auto good = encode_header(tensor_header({1, 4}));
  const auto refused = [&](auto edit, const std::string& word, FrameLimits lim = limits_for({4})) {
    auto b = good;
    edit(b);
    try {
      decode_header(b.data(), b.size(), lim);
      FAIL("accepted a frame with a bad " << word);
    } catch (const WireError& e) {
      CHECK_THAT(e.what(), Catch::Contains(word));
    }
  };
  refused([](auto& b) { b[0] = 'X'; }, "magic");
  refused([](auto& b) { b[4] = 9; }, "version");
  refused([](auto& b) { b[6] = 99; }, "kind");
  refused([](auto& b) { b[7] = 99; }, "dtype");
  refused([](auto& b) { b[16] = 9; }, "dims");
  refused([](auto& b) { b[20] = 1; }, "reserved");
  refused([](auto& b) { b[175] = 1; }, "reserved");
  refused([](auto& b) { b[31] = 0x80; }, "dim 0");           // a negative batch
  refused([](auto& b) { b[48] = 1; }, "unused dim");         // a dim past ndim
  refused([](auto& b) { b[88] = 15; }, "length");            // not 1*4*4 bytes
  refused([](auto& b) { b[24] = 0; }, "batch");              // batch 0
  refused([](auto&) {}, "is not [B,5]", limits_for({5}));    // another sample shape
  FrameLimits small = limits_for({4});
  small.max_payload_bytes = 8;
  refused([](auto&) {}, "above the limit", small);
  CHECK_THROWS_AS(decode_header(good.data(), 100, limits_for({4})), WireError);
}

TEST_CASE("an impossible header cannot be encoded", "[runtime][wire]") {
  auto h = tensor_header({2, 3});
  h.length = 23;
  CHECK_THROWS_AS(encode_header(h), WireError);
  auto big = tensor_header({1, 1, 1, 1, 1, 1, 1, 1});
  big.shape.push_back(1);
  CHECK_THROWS_AS(encode_header(big), WireError);
}

TEST_CASE("frames cross a socketpair whole, with the hop time filled in", "[runtime][wire]") {
  Pair p;
  const Channel tx(p.a, "the writer"), rx(p.b, "the reader");
  Frame f;
  f.header = tensor_header({1, 2});
  const float v[2] = {1.5f, -2.0f};
  f.payload.assign(reinterpret_cast<const uint8_t*>(v), reinterpret_cast<const uint8_t*>(v) + 8);
  tx.send(f);
  tx.send(text_frame(FrameKind::kShutdown, 8, ""));
  const auto got = rx.receive(limits_for({2}), /*hop=*/1);
  REQUIRE(got);
  CHECK(got->header.sequence == 7);
  CHECK(got->payload == f.payload);
  CHECK(got->header.hop_ns[1] > 0);
  const auto end = rx.receive(limits_for({2}));
  REQUIRE(end);
  CHECK(end->header.kind == FrameKind::kShutdown);
  ::close(p.a);
  p.a = -1;
  CHECK_FALSE(rx.receive(limits_for({2})));  // a clean end of stream at a frame boundary
}

TEST_CASE("a truncated or oversized frame is refused before its payload is used", "[runtime][wire]") {
  SECTION("the writer closes inside the payload") {
    Pair p;
    const auto h = encode_header(tensor_header({1, 4}));
    REQUIRE(::write(p.a, h.data(), h.size()) == static_cast<ssize_t>(h.size()));
    REQUIRE(::write(p.a, "abc", 3) == 3);
    ::close(p.a);
    p.a = -1;
    CHECK_THROWS_WITH(Channel(p.b, "the enclave worker").receive(limits_for({4})),
                      Catch::Contains("inside frame 7") && Catch::Contains("the enclave worker"));
  }
  SECTION("the writer closes inside the header") {
    Pair p;
    REQUIRE(::write(p.a, "PPRT", 4) == 4);
    ::close(p.a);
    p.a = -1;
    CHECK_THROWS_WITH(Channel(p.b, "x").receive(limits_for({4})), Catch::Contains("inside a frame header"));
  }
  SECTION("a frame announcing 1 GiB is refused with nothing read past its header") {
    Pair p;
    auto h = tensor_header({1, 268435456});
    const auto b = encode_header(h);
    REQUIRE(::write(p.a, b.data(), b.size()) == static_cast<ssize_t>(b.size()));
    CHECK_THROWS_WITH(Channel(p.b, "x").receive(limits_for({268435456})), Catch::Contains("above the limit"));
  }
  SECTION("nothing arrives within the timeout") {
    Pair p;
    CHECK_THROWS_WITH(Channel(p.b, "the untrusted worker").receive(limits_for({4}), -1, 20),
                      Catch::Contains("within 20 ms"));
  }
  SECTION("a peer that is gone fails the send, without SIGPIPE") {
    Pair p;
    ::close(p.b);
    p.b = -1;
    CHECK_THROWS_WITH(Channel(p.a, "the untrusted worker").send(text_frame(FrameKind::kShutdown, 0, "")),
                      Catch::Contains("the untrusted worker is gone"));
  }
}
