#!/usr/bin/env bash
# Refresh formats/k8s-protos/ from the .proto files shipped in the crates.io crate k8s-rs-pb
# (Apache-2.0). Those files are the Kubernetes generated.proto files with packages and imports
# rewritten without the `k8s.io.` prefix (`package api.core.v1;`).
#
#   scripts/update-k8s-protos.sh [CRATE_VERSION] [K8S_DIR]
#   e.g. scripts/update-k8s-protos.sh 0.5.0 v1_35
#
# The crate is fetched through cargo (into the local registry cache) if it is not there yet.
set -euo pipefail

version="${1:-0.5.0}"
k8s_dir="${2:-v1_35}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/formats/k8s-protos"

registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
find_src() { find "$registry" -maxdepth 2 -type d -name "k8s-rs-pb-$version" 2>/dev/null | head -n1; }
src="$(find_src)"
if [[ -z "$src" ]]; then
    # Let cargo download and unpack it, in a throwaway package.
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && cargo init -q --name fetch_k8s_protos && cargo add -q "k8s-rs-pb@=$version" && cargo fetch -q)
    src="$(find_src)"
fi
[[ -n "$src" && -d "$src/src/$k8s_dir" ]] || { echo "k8s-rs-pb $version has no src/$k8s_dir" >&2; exit 1; }

find "$dest" -name '*.proto' ! -path "$dest/legacy/*" -delete
(cd "$src/src/$k8s_dir" && find . -name '*.proto' ! -path './apimachinery/pkg/apis/testapigroup/*' -print0 |
    while IFS= read -r -d '' f; do mkdir -p "$dest/$(dirname "$f")"; cp "$f" "$dest/$f"; done)
find "$dest" -type d -empty -delete

# Legacy: API versions that the chosen release no longer has (alpha versions removed since), from
# the crate's older release directories, newest first, so that values an older cluster stored in
# them still decode. Only their `package` line is changed, to `legacy.<dir>.<package>`, to keep
# them apart from the current packages; `message_for` looks there when the current schema lacks
# the kind. Extra: packages still present whose older kinds were removed.
rm -rf "$dest/legacy"
extra_legacy="v1_33:api/resource/v1alpha3"
for old in $(ls -d "$src"/src/v1_* | xargs -n1 basename | sort -rV); do
    [[ "$old" < "$k8s_dir" ]] || continue
    (cd "$src/src/$old" && find api -name generated.proto) | while read -r f; do
        pkgdir="$(dirname "$f")"
        wanted=""
        [[ -e "$src/src/$k8s_dir/$f" ]] || wanted=1
        [[ " $extra_legacy " == *" $old:$pkgdir "* ]] && wanted=1
        [[ -n "$wanted" ]] || continue
        compgen -G "$dest/legacy/*/$pkgdir/generated.proto" > /dev/null && continue # a newer one was taken
        mkdir -p "$dest/legacy/$old/$pkgdir"
        # Type references: the file's own package becomes the legacy one; any other relative
        # reference (`api.core.v1.X`, which some older files have) is made absolute, so that it
        # keeps pointing at the current package instead of being looked up under `legacy.`.
        pkg="$(sed -nE 's/^package ([a-z0-9_.]+);/\1/p' "$src/src/$old/$f")"
        pkg_re="${pkg//./\\.}"
        sed -E -e "s/^package ([a-z0-9_.]+);/package legacy.$old.\1;/" \
            -e "/^ *(optional|repeated|required|map<)/{s/([ <,])\.?$pkg_re\./\1.legacy.$old.$pkg./g;s/([ <,])(api|apimachinery|apiextensions_apiserver|kube_aggregator)\./\1.\2./g}" \
            "$src/src/$old/$f" > "$dest/legacy/$old/$f"
    done
done

count="$(find "$dest" -name '*.proto' | wc -l)"
sed -i -E "s/^(Crate version: ).*/\1k8s-rs-pb $version, directory src\/$k8s_dir/" "$dest/README.md"
echo "copied $count .proto files from k8s-rs-pb $version src/$k8s_dir into formats/k8s-protos/"
