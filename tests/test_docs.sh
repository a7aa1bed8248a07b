#!/usr/bin/env bash
# The README's module reference is what the descriptors say, and its
# protocol table and the vocabulary (ttl/hp.ttl) what the table of
# operations (src/ops.c) says.
set -euo pipefail
readme="${HP_SRC:?run through ./waf test}/README.md"
want=$("./tools/hp-describe" --markdown)
have=$(sed -n '/<!-- modules:begin -->/,/<!-- modules:end -->/p' "$readme" | sed '1d;$d')
if [ "$want" != "$have" ]; then
    diff <(echo "$have") <(echo "$want") | head -40
    echo "README.md's module reference is stale: regenerate it with"
    echo "  ./build/tools/hp-describe --markdown"
    exit 1
fi
echo "# README module reference matches $(grep -c '^### ' <<<"$want") module descriptors"

# The README's protocol table is what the table of operations says.
want=$("./tools/hp-describe" --protocol)
have=$(sed -n '/<!-- protocol:begin -->/,/<!-- protocol:end -->/p' "$readme" | sed '1d;$d')
if [ "$want" != "$have" ]; then
    diff <(echo "$have") <(echo "$want") | head -40
    echo "README.md's protocol table is stale: regenerate it with"
    echo "  ./build/tools/hp-describe --protocol"
    exit 1
fi
echo "# README protocol table matches $(grep -c '^| ' <<<"$want") rows of the table of operations"

# Every hp: class and key of the table of operations is in the vocabulary.
terms=$("./tools/hp-describe" --terms | sort -u)
for term in $terms; do
    grep -qE "^${term}( |$)" "$HP_SRC/ttl/hp.ttl" || {
        echo "ttl/hp.ttl does not describe $term (a class or key of src/ops.c)"
        exit 1
    }
done
echo "# ttl/hp.ttl describes all $(wc -w <<<"$terms") hp: terms of the table of operations"
