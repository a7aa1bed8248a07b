#!/usr/bin/env bash
# plain build only: static analysis of the same sources: the plain build runs it
# Static analysis: cppcheck at the warning, performance and portability
# levels finds nothing in the plugin, the engine and the tools.
set -euo pipefail
# Independent of how the plugin is built: the plain build's run covers it.
src=${HP_SRC:?run through ./waf test}
command -v cppcheck >/dev/null || { echo "cppcheck is missing: run ./setup"; exit 1; }
out=$(cppcheck -q --enable=warning,performance,portability --std=c11 \
      --error-exitcode=1 --inline-suppr -D__GNUC__ \
      -I "$src/src" -I "$src/plugin" -I "$src/tests" "$src/src" "$src/plugin" "$src/tools" 2>&1) \
  || { echo "$out"; exit 1; }
[ -z "$out" ] || { echo "$out"; exit 1; }
echo "# cppcheck $(cppcheck --version | awk '{print $2}'): warning, performance, portability: clean ($(ls "$src"/src/*.c "$src"/plugin/*.c "$src"/tools/*.c | wc -l) files)"
