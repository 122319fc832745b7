// The Gramine manifest template. Every part the enclave worker loads is a trusted file with
// the plan's SHA-256, the enclave is sized from the measured peak, and no insecure__ option is
// set: argv is fixed in the manifest (the worker's channels are inherited at fixed fds), so
// loader.insecure__use_cmdline_argv is not needed.
#include "partplan/runtime/gramine.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "partplan/common/fs.hpp"

namespace partplan::runtime {

int64_t enclave_size_bytes(int64_t peak) {
  const auto want = static_cast<int64_t>(static_cast<double>(peak) * kEnclaveMargin);
  int64_t size = int64_t{256} << 20;
  while (size < want) size *= 2;
  return size;
}

namespace {

/// A TOML basic string: quotes, backslashes and control bytes escaped.
std::string toml_string(const std::string& v) {
  std::string out = "\"";
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') out += '\\', out += ch;
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);
    else out += ch;
  }
  return out + "\"";
}

}  // namespace

std::string gramine_manifest(const GramineSpec& s) {
  const int64_t size = enclave_size_bytes(s.peak_rss_bytes);
  const int omp = std::max(1, s.threads - 2);
  std::string parts, argv;
  for (const auto& f : s.trusted_files)
    parts += fmt::format("  {{ uri = {}, sha256 = {} }},\n", toml_string("file:" + f.path), toml_string(f.sha256));
  for (const auto& a : std::vector<std::string>{s.worker_exe, "__worker", "--role", "enclave", "--control-fd", "3",
                                                "--device", "cpu", "--threads", std::to_string(omp),
                                                "--max-payload-bytes", std::to_string(s.max_payload_bytes)})
    argv += (argv.empty() ? "" : ", ") + toml_string(a);
  int fd = 4;
  for (auto st : s.stages) {
    st.in_fd = fd++, st.out_fd = fd++;
    argv += ", " + toml_string("--stage") + ", " + toml_string(encode_stage(st));
  }
  return fmt::format(
      R"(# Gramine manifest template for partplan's enclave worker (written by partplan run --gramine).
# Render with gramine-manifest, sign with gramine-sgx-sign (README.md). The enclave size is the
# measured peak RSS ({peak} bytes) x {margin} rounded up to a power of two, at least 256 MiB.
loader.entrypoint.uri = "file:{{{{ gramine.libos }}}}"
libos.entrypoint = {exe_toml}
loader.log_level = "error"
loader.env.LD_LIBRARY_PATH = "/lib:{{{{ arch_libdir }}}}:/usr/{{{{ arch_libdir }}}}"
loader.env.OMP_NUM_THREADS = "{omp}"
# argv is fixed here, not taken from the host: the launcher passes the control channel on fd 3
# and each stage's input and output channels on fds 4 and 5 (then 6 and 7), as the stages say.
loader.argv = [{argv}]

fs.mounts = [
  {{ path = "/lib", uri = "file:{{{{ gramine.runtimedir() }}}}" }},
  {{ path = "{{{{ arch_libdir }}}}", uri = "file:{{{{ arch_libdir }}}}" }},
  {{ path = "/usr/{{{{ arch_libdir }}}}", uri = "file:/usr/{{{{ arch_libdir }}}}" }},
]

sgx.debug = false
sgx.edmm_enable = false
sgx.enclave_size = "{size_mib}M"
sgx.max_threads = {threads}
sgx.trusted_files = [
  "file:{{{{ gramine.libos }}}}",
  {exe_file},
  "file:{{{{ gramine.runtimedir() }}}}/",
  "file:{{{{ arch_libdir }}}}/",
  "file:/usr/{{{{ arch_libdir }}}}/",
{parts}]
)",
      fmt::arg("peak", s.peak_rss_bytes), fmt::arg("margin", kEnclaveMargin), fmt::arg("exe_toml", toml_string(s.worker_exe)),
      fmt::arg("exe_file", toml_string("file:" + s.worker_exe)), fmt::arg("omp", omp), fmt::arg("argv", argv),
      fmt::arg("size_mib", size >> 20), fmt::arg("threads", std::max(4, s.threads)), fmt::arg("parts", parts));
}

namespace {

constexpr const char* kReadme = R"(# The enclave worker under Gramine-SGX

`partplan-enclave.manifest.template` runs partplan's enclave worker (the front of the plan,
and a ternary plan's back) inside an SGX enclave. partplan wrote it from a measured run
(`partplan run --gramine DIR`); nothing on the machine that wrote it could run SGX, so the
template has been written and checked for its fields, never signed or started.

1. Render it for this machine:
   `gramine-manifest -Darch_libdir=/lib/x86_64-linux-gnu partplan-enclave.manifest.template partplan-enclave.manifest`
2. Sign it (computes MRENCLAVE over the trusted files): `gramine-sgx-sign --manifest
   partplan-enclave.manifest --output partplan-enclave.manifest.sgx`. Compare the SHA-256 of
   each part in the signed manifest with the plan's (they are listed in the template).
3. Start it with its channels on fixed fds: the control channel on fd 3, then each stage's
   input and output channel (fds 4 and 5, then 6 and 7), from a launcher that holds the other
   ends (the client and the untrusted worker), with `gramine-sgx partplan-enclave`.

What it keeps: the parts are trusted files (their hashes are part of the enclave's
measurement), the enclave size comes from the measured peak RSS with a 1.5x margin rounded up
to a power of two, there are at least 4 thread slots, and no `insecure__` option is set.
)";

}  // namespace

std::string write_gramine(const std::string& dir, const GramineSpec& spec) {
  common::StagedDir out(dir);
  common::write_file_atomic(out.add("README.md"), kReadme);
  common::write_file_atomic(out.add("partplan-enclave.manifest.template"), gramine_manifest(spec));
  out.commit();
  return (std::filesystem::path(dir) / "partplan-enclave.manifest.template").string();
}

}  // namespace partplan::runtime
