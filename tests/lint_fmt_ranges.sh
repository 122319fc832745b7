#!/usr/bin/env bash
# fmt 11 (the fmt torch 2.x wheels bundle) declares fmt::join in <fmt/ranges.h>, not in
# <fmt/format.h> as Debian's fmt 9 does. A file that uses fmt::join without the header builds
# against 1.13 and breaks only the torch 2.x build, so this check runs in every build.
# Usage: lint_fmt_ranges.sh SOURCE_DIR
set -euo pipefail
cd "$1"
bad=0
while IFS= read -r f; do
  if ! grep -q '#include <fmt/ranges.h>' "$f"; then
    echo "$f uses fmt::join but does not include <fmt/ranges.h>: add the include (fmt 11 needs it)" >&2
    bad=1
  fi
done < <(grep -rl --include='*.cpp' --include='*.hpp' --include='*.cu' 'fmt::join' src include attacks metrics tests)
exit "$bad"
