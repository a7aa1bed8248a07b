#!/usr/bin/env bash
# plain build only: the layout of the sources does not depend on the build
# Every C file follows .clang-format, as clang-format 14 (Debian 12's)
# lays it out: 'clang-format-14 -i FILE' fixes one that does not.
set -euo pipefail
src=${HP_SRC:?run through ./waf test}
fmt=clang-format-14
command -v $fmt >/dev/null || { echo "$fmt is missing: run ./setup"; exit 1; }
cd "$src"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src plugin tools tests -name '*.[ch]')
bad=0
lines=0
for f in $files; do
  n=$($fmt --style=file "$f" | diff "$f" - | grep -c '^>' || true)
  if [ "$n" -gt 0 ]; then
    echo "$f: $n lines differ from $fmt's layout (fix: $fmt -i $f)"
    bad=$((bad + 1))
    lines=$((lines + n))
  fi
done
count=$(echo "$files" | wc -w)
[ "$bad" -eq 0 ] || { echo "$bad of $count files, $lines lines, are not laid out as .clang-format says"; exit 1; }
echo "# $fmt: all $count C files laid out as .clang-format says"
