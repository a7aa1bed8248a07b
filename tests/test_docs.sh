#!/usr/bin/env bash
# The README's module reference is what the descriptors say, and the bundle's
# modules.ttl and the README document exactly the types src/modules.def lists;
# its protocol table and the vocabulary (ttl/hp.ttl) are what the table of
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

listed=$(sed -n 's/^HP_MODULE(\([A-Za-z0-9_]*\))$/\1/p' "$HP_SRC/src/modules.def")
same_types() { # what, the types it documents in order
    if [ "$listed" != "$2" ]; then
        diff <(echo "$listed") <(echo "$2") | head -20
        echo "$1 documents other module types than src/modules.def lists"
        exit 1
    fi
}
same_types README.md "$(sed -n 's/^### `\([^`]*\)`.*/\1/p' <<<"$have")"
same_types modules.ttl "$(sed -n 's/^hp:module-\(.*\)$/\1/p' "${HP_BUNDLE:?}/modules.ttl")"
echo "# README module reference and modules.ttl match the $(wc -l <<<"$listed") module types of src/modules.def"

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
