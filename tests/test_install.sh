#!/usr/bin/env bash
# plain build only: it configures, builds and installs a plain copy of its own
# The front door: `./waf configure && ./waf install --destdir=D` on a tree as
# fresh as a clone installs the whole bundle and hotpatch-render, builds no
# test program, and ships nothing from tests/ (the installed hotpatch-render
# interposes no allocator or lock function); the installed bundle and the
# build tree's lv2/ folder load in lilv, both plugins, without a single
# error.
set -euo pipefail
src=${HP_SRC:?run through ./waf test}
build=$PWD # ./waf test runs scripts in the build folder
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The tree as it stands (committed or not), without build folders: every
# file git tracks or would track.  It shares the pinned waflib, so no fetch.
mkdir "$work/tree"
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -C "$work/tree" -xf -
[ -d "$src/.waf-lib" ] && ln -s "$src/.waf-lib" "$work/tree/.waf-lib"

dest="$work/dest"
if ! (cd "$work/tree" &&
          ./waf configure -o "$work/build" --prefix=/usr --lv2dir=/usr/lib/lv2 &&
          ./waf install --destdir="$dest") >"$work/log" 2>&1; then
    tail -30 "$work/log"; echo "./waf configure install failed"; exit 1
fi

want=("usr/bin/hotpatch-render")
for f in hotpatch.so hotpatch.ttl hp.ttl manifest.ttl modules.ttl; do
    want+=("usr/lib/lv2/hotpatch.lv2/$f")
done
for script in "$src"/presets/*.hps; do
    name=$(basename "$script" .hps)
    want+=("usr/lib/lv2/hotpatch.lv2/presets/$name.ttl")
done
want_list=$(printf '%s\n' "${want[@]}" | sort)
have_list=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
if [ "$have_list" != "$want_list" ]; then
    diff <(echo "$want_list") <(echo "$have_list") | sed 's/^/  /'
    echo "the installed files (> ) are not the bundle and hotpatch-render (< )"
    exit 1
fi
echo "# ./waf install --destdir on a fresh tree: ${#want[@]} files, the bundle and hotpatch-render"

if [ -e "$work/build/tests" ]; then
    echo "./waf install built test programs:"; find "$work/build/tests" -type f | head; exit 1
fi

# What tests/host/rtcheck.c interposes must not be exported by a shipped
# program (then every plugin it loads would bind to it).
render="$dest/usr/bin/hotpatch-render"
exported=$(nm -D --defined-only "$render" | awk '{print $NF}' |
           grep -xE 'malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|pthread_mutex_(lock|trylock|unlock)|pthread_cond_wait|hp_rt_[a-z_]+' || true)
if [ -n "$exported" ]; then
    echo "the installed hotpatch-render exports:" $exported; exit 1
fi
if nm "$render" | grep -qw hp_rt_counts; then
    echo "the installed hotpatch-render links tests/host/rtcheck.c"; exit 1
fi
echo "# the installed hotpatch-render exports no allocator, lock or rtcheck symbol, links no rtcheck"

# lilv loads the installed bundle, and the build tree's lv2/ folder as the
# README's jalv line uses it, with nothing on stderr (lilv's errors).
for lv2 in "$dest/usr/lib/lv2" "$work/build/lv2" "$build/lv2"; do
    if ! LV2_PATH="$lv2" lv2ls >"$work/ls" 2>"$work/err" || [ -s "$work/err" ] ||
            [ "$(sort "$work/ls" | xargs)" != "urn:hotpatch:fx urn:hotpatch:synth" ]; then
        echo "LV2_PATH=$lv2 lv2ls:"; cat "$work/ls" "$work/err"; exit 1
    fi
    for uri in urn:hotpatch:synth urn:hotpatch:fx; do
        if ! LV2_PATH="$lv2" lv2info "$uri" >"$work/info" 2>"$work/err" ||
                [ -s "$work/err" ]; then
            echo "LV2_PATH=$lv2 lv2info $uri:"; cat "$work/err"; exit 1
        fi
        binary=$(sed -n 's|^\s*Binary:\s*file://||p' "$work/info")
        [ -f "$binary" ] || { echo "LV2_PATH=$lv2 $uri: no binary '$binary'"; exit 1; }
    done
done
echo "# lilv: the installed bundle and build/lv2 list urn:hotpatch:synth and urn:hotpatch:fx, with no error"
