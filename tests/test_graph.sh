#!/usr/bin/env bash
# hotpatch-render --graph: the default patch and every preset drawn as DOT
# that Graphviz reads, naming every module (id and type) and connection
# (modules and the ports the text names) of the patch's own text, one box
# per voice exactly where DESIGN 3b says; a patch document, given as the
# script or loaded by /file, draws as the preset it came from; the
# README's pictures are what ./waf pictures draws; and without dot an SVG
# is refused with the fix.
set -euo pipefail
src=${HP_SRC:?run through ./waf test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
render=./tools/hotpatch-render
if command -v dot >/dev/null; then has_dot=1; else has_dot=0; fi
./tools/hp-describe --markdown >"$work/modules.md"

# The checker: DOT against the text that built the patch (hp-preset's
# lines: the active scene's).
cat >"$work/check.py" <<'PY'
import re, sys

dot_path, text_path, modules_path = sys.argv[1:4]
canon = {}  # type or alias -> type
for line in open(modules_path):
    if line.startswith("### "):
        names = re.findall(r"`([^`]+)`", line)
        canon.update((n, names[0]) for n in names)

scenes, active, started = [[]], 1, False
for line in open(text_path):
    w = line.split()
    if not w:
        continue
    if w[0] == "/scene":
        if started:
            scenes.append([])
        started = True
    elif w[0] == "/active":
        active = int(w[1])
    else:
        scenes[-1].append(w)
lines = scenes[active - 1]
voices = next((int(w[1]) for w in lines if w[0] == "/patch/voices"), 1)
types = {w[1]: canon[w[2]] for w in lines if w[0] == "/patch/create"}
connects = [(w[1], w[2]) for w in lines if w[0] == "/patch/connect"]

dot = open(dot_path).read()
nodes = dict(re.findall(r'^  "([^"]+)" \[label="\1\\n([a-z_]+)', dot, re.M))
assert nodes == types, "boxes %s, the text creates %s" % (nodes, types)
edges = re.findall(r'^  "([^"]+)" -> "([^"]+)" \[class="(?:audio|modulation)", '
                   r'tooltip="([^"]+) → ([^"]+)"', dot, re.M)
for s, d in connects:
    match = [e for e in edges if e[0] == s.split(":")[0] and e[1] == d.split(":")[0]
             and (":" not in s or e[2] == s) and (":" not in d or e[3] == d)]
    assert match, "no edge for /patch/connect %s %s in %s" % (s, d, edges)
    edges.remove(match[0])
assert not edges, "edges the text does not connect: %s" % edges
label = re.search(r'^  graph \[.*label="(\d+) voices?', dot, re.M)
assert label and int(label.group(1)) == voices, "graph label says %s voices, the text %d" % (label and label.group(1), voices)

# DESIGN 3b: `midi` plays per voice, and what it or a per-voice module
# feeds, except what adds the voices (`sum`, and `reverb`, whose
# descriptor says it sums them); with one voice nothing is doubled.
per_voice, changed = set(), True
while voices > 1 and changed:
    changed = False
    for m, t in types.items():
        fed = any(s.split(":")[0] in per_voice for s, d in connects if d.split(":")[0] == m)
        if m not in per_voice and (t == "midi" or (fed and t not in ("sum", "reverb"))):
            per_voice.add(m)
            changed = True
doubled = set(re.findall(r'^  "([^"]+)" \[label=.*peripheries=2', dot, re.M))
assert doubled == per_voice, "doubled boxes %s, per voice %s" % (sorted(doubled), sorted(per_voice))
print("%d modules, %d connections, %d voice(s), %d per voice" % (len(types), len(connects), voices, len(per_voice)))
PY

check() { # name, DOT, text
    local got
    got=$(python3 "$work/check.py" "$2" "$3" "$work/modules.md") || {
        echo "$1: the picture is not the patch"; cat "$2"; exit 1; }
    if [ "$has_dot" = 1 ]; then
        dot -Tsvg "$2" >"$work/parsed.svg" 2>"$work/dot.err" || {
            cat "$work/dot.err"; echo "$1: dot cannot read its DOT"; exit 1; }
    fi
    echo "$got"
}

# The default patch: what plugin/hotpatch.c gives hp_engine_new.
python3 - "$src/plugin/hotpatch.c" >"$work/default.hps" <<'PY'
import re, sys
c = open(sys.argv[1]).read()
body = re.search(r"default_patch =\s*((?:\"[^\"]*\"\s*)+);", c).group(1)
print("".join(re.findall(r'"([^"]*)"', body)).replace("\\n", "\n"), end="")
PY
$render --quiet --graph "$work/default.dot" 2>/dev/null
echo "# default patch: $(check default "$work/default.dot" "$work/default.hps")"

n=0
for preset in "$src"/presets/*.hps; do
    name=$(basename "$preset" .hps)
    $render --quiet --graph "$work/$name.dot" "$preset" 2>/dev/null || {
        echo "$name: no picture"; exit 1; }
    echo "# preset $name: $(check "$name" "$work/$name.dot" "$preset")"
    n=$((n + 1))
done
[ "$n" -ge 20 ] || { echo "only $n presets"; exit 1; }
echo "# hotpatch-render --graph: the default patch and all $n presets name every module and connection$([ "$has_dot" = 1 ] && echo ", and dot reads each")"

# A patch document (the state of the compiled Acid preset), as the script
# and by /file at 0.5 s: the same picture as the preset's, and the report
# has the document's commit swapping at the start of the next block of 256
# (frame 24064): the plugin asks for the file's work at the end of the
# block its message came in, even with a synchronous worker.
python3 - "$HP_BUNDLE/presets/acid.ttl" >"$work/acid.ttl" <<'PY'
import re, sys
doc = re.search(r'"""(.*?)"""', open(sys.argv[1]).read(), re.S).group(1)
print(re.sub(r"\\(.)", r"\1", doc))  # hp-preset escapes " and \ in it
PY
$render --quiet --graph "$work/doc.dot" "$work/acid.ttl" 2>/dev/null
printf '0.5 /file acid.ttl\n1.0 /end\n' >"$work/file.hps"
out=$($render --sync --graph "$work/file.dot" "$work/file.hps" 2>/dev/null)
for dot in doc file; do
    cmp -s "$work/acid.dot" "$work/$dot.dot" || {
        diff "$work/acid.dot" "$work/$dot.dot"; echo "$dot.dot differs from the preset's"; exit 1; }
done
grep -qE '^commit [0-9]+: primed in [0-9.]+ ms, warm-up RMS [0-9.]+, swapped at frame 24064 \(0\.501 s\)$' <<<"$out" || {
    echo "$out"; echo "/file at 0.5 s: expected a commit swapped at frame 24064"; exit 1; }
echo "# hotpatch-render --graph: the Acid preset's patch document, as SCRIPT and by /file (swapped at frame 24064), draws as the preset"

# The README's pictures are what tools/pictures.sh (./waf pictures) draws,
# byte for byte with the Graphviz that drew them.
[ "$has_dot" = 1 ] || { echo "Graphviz's dot is missing: run ./setup"; exit 1; }
bash "$src/tools/pictures.sh" "$render" "$work/pictures" 2>/dev/null
drawn=$(cd "$work/pictures" && ls)
[ "$drawn" = "$(cd "$src/docs/pictures" && ls)" ] || {
    echo "docs/pictures holds other files than ./waf pictures draws: $drawn"; exit 1; }
version() { sed -n 's/^<!-- Generated by graphviz version \(.*\)$/\1/p' "$1"; }
for svg in $drawn; do
    if [ "$(version "$src/docs/pictures/$svg")" = "$(version "$work/pictures/$svg")" ]; then
        cmp -s "$src/docs/pictures/$svg" "$work/pictures/$svg" || {
            echo "docs/pictures/$svg is stale: run ./waf pictures"; exit 1; }
        same="byte for byte"
    else
        same="drawn (another Graphviz drew them: $(version "$src/docs/pictures/$svg"))"
    fi
done
echo "# README pictures: $(wc -w <<<"$drawn") SVGs ($(tr '\n' ' ' <<<"$drawn")) $same"

# Without dot, an SVG is refused with the fix; DOT needs no dot.
if PATH=/nonexistent $render --quiet --graph "$work/x.svg" 2>"$work/err"; then
    echo "an SVG was drawn without dot"; exit 1
fi
grep -qF "drawing $work/x.svg needs Graphviz's dot: apt-get install graphviz" "$work/err" || {
    cat "$work/err"; exit 1; }
PATH=/nonexistent $render --quiet --graph "$work/x.dot" 2>/dev/null
echo "# hotpatch-render --graph: without dot an SVG is refused (apt-get install graphviz), DOT still written"
