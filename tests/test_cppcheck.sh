#!/usr/bin/env bash
# Static analysis: cppcheck at the warning, performance and portability
# levels finds nothing in the plugin, the engine and the tools.
set -euo pipefail
# Independent of how the plugin is built: the plain build's run covers it.
if [ -n "${HP_SANITIZE:-}" ]; then
    echo "# not run again in the --sanitize=$HP_SANITIZE build"
    exit 0
fi
src=${HP_SRC:?run through ./waf test}
command -v cppcheck >/dev/null || { echo "cppcheck is missing: run ./setup"; exit 1; }
out=$(cppcheck -q --enable=warning,performance,portability --std=c11 \
      --error-exitcode=1 --inline-suppr -D__GNUC__ \
      -I "$src/src" -I "$src/plugin" "$src/src" "$src/plugin" "$src/tools" 2>&1) \
  || { echo "$out"; exit 1; }
[ -z "$out" ] || { echo "$out"; exit 1; }
echo "# cppcheck $(cppcheck --version | awk '{print $2}'): warning, performance, portability: clean ($(ls "$src"/src/*.c "$src"/plugin/*.c "$src"/tools/*.c | wc -l) files)"
