#!/usr/bin/env bash
# Installs everything the project needs on Debian 12, idempotently.
#
#  1. Debian 12 packages (compiler, CMake, Vulkan loader and headers, lavapipe, the Khronos
#     validation layer, spdlog/fmt, GoogleTest, Google Benchmark, CLI11, nlohmann-json, stb, and the
#     DejaVu font that sedx-mem draws its pictures' text with).
#  2. VMA (Vulkan Memory Allocator), which Debian 12 lacks: Debian's header-only, arch-all
#     `libvulkan-memory-allocator-dev` from sid, fetched with `apt-get download` through a
#     throw-away sources list that exists only for that command, and extracted into the
#     git-ignored prefix .deps/vma. The machine's own apt sources are never changed; the
#     archive's address is read from them.
#  3. The project's patches to VMA (patches/vma/*.patch, docs/ARCHITECTURE.md "VMA, patched"),
#     applied in order to that header. The exact package version is pinned, and the header's
#     SHA-256 is checked before and after patching. The unpatched header is kept beside it
#     (.deps/vma/pristine/vk_mem_alloc.h): the test sedx_vma_unpatched_fails_the_patch_tests
#     builds the patch tests against it and expects them to fail.
#
# When everything is present it only checks and exits (well under a second).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VMA_PREFIX="$ROOT/.deps/vma"
# The VMA package the project's patches apply to: exactly this version, with these checksums of
# vk_mem_alloc.h before and after patches/vma/*.patch. A newer VMA means new patches and checksums.
VMA_TESTED="3.4.0+dfsg-1"
VMA_PACKAGE="libvulkan-memory-allocator-dev"
VMA_PRISTINE_SHA256="8487b7995ad3b263eb73bc5b9a77d71aa69b6bef5d58a715c02d2663afd81f1a"
VMA_PATCHED_SHA256="acabdc564e557cb4353be0bbd1b52e726baca17dd503c88ae7e880540cc2a7ca"

PACKAGES=(
    build-essential cmake ninja-build pkg-config git patch
    libvulkan-dev vulkan-tools mesa-vulkan-drivers vulkan-validationlayers
    libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
    libcli11-dev nlohmann-json3-dev libstb-dev fonts-dejavu-core
    clang-14 libclang-rt-14-dev clang-format
)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="__none__"; fi
fi

# ---------------------------------------------------------------- 1. Debian packages
missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    [ "$SUDO" = "__none__" ] && die "missing packages (${missing[*]}) and neither root nor sudo to install them"
    say "installing: ${missing[*]}"
    if ! $SUDO apt-get update -qq; then
        die "apt-get update failed: cannot reach the Debian archive; still missing: ${missing[*]}"
    fi
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        die "apt-get install failed for: ${missing[*]} (is the Debian archive reachable?)"
    fi
fi

# ---------------------------------------------------------------- 2. VMA from sid, 3. patched
stamp="$VMA_PREFIX/.version"
header="$VMA_PREFIX/usr/include/vk_mem_alloc.h"
pristine="$VMA_PREFIX/pristine/vk_mem_alloc.h"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Applies patches/vma/*.patch to the pristine header, checking both checksums.
patch_vma() {
    [ "$(sha "$pristine")" = "$VMA_PRISTINE_SHA256" ] ||
        die "$pristine is not the vk_mem_alloc.h of $VMA_PACKAGE $VMA_TESTED (SHA-256 $(sha "$pristine"), expected $VMA_PRISTINE_SHA256)"
    cp "$pristine" "$header"
    local p
    for p in "$ROOT"/patches/vma/*.patch; do
        patch --quiet --forward --no-backup-if-mismatch -p1 -d "$VMA_PREFIX" < "$p" ||
            die "patch $(basename "$p") does not apply to VMA $VMA_TESTED"
    done
    [ "$(sha "$header")" = "$VMA_PATCHED_SHA256" ] ||
        die "the patched vk_mem_alloc.h has SHA-256 $(sha "$header"), expected $VMA_PATCHED_SHA256 (patches/vma changed without updating VMA_PATCHED_SHA256?)"
    echo "$VMA_TESTED patched $VMA_PATCHED_SHA256" > "$stamp"
    say "VMA $VMA_TESTED patched with $(ls "$ROOT"/patches/vma/*.patch | wc -l) patches (patches/vma)"
}

if [ -f "$header" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$VMA_TESTED patched $VMA_PATCHED_SHA256" ] &&
   [ "$(sha "$header")" = "$VMA_PATCHED_SHA256" ]; then
    exit 0
fi
# The right package is here but not (or differently) patched: patch again from the pristine copy.
if [ -f "$header" ] && [ ! -f "$pristine" ] && [ "$(sha "$header")" = "$VMA_PRISTINE_SHA256" ]; then
    mkdir -p "$VMA_PREFIX/pristine" && cp "$header" "$pristine"
fi
if [ -f "$pristine" ] && [ "$(sha "$pristine")" = "$VMA_PRISTINE_SHA256" ]; then
    patch_vma
    exit 0
fi

# The archive's address: the first Debian (non-security) URI in the machine's own apt sources.
archive_uri() {
    local f uri
    if [ -n "${SEDX_DEBIAN_ARCHIVE:-}" ]; then echo "$SEDX_DEBIAN_ARCHIVE"; return; fi
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk 'BEGIN{RS=""; FS="\n"}
            {u=""; s=""; c=""
             for(i=1;i<=NF;i++){
               if($i ~ /^URIs:/){split($i,a,/[ \t]+/); u=a[2]}
               if($i ~ /^Suites:/){s=$i}
               if($i ~ /^Components:/){c=$i}}
             if(u!="" && s !~ /-security/ && u !~ /security/ && c ~ /main/ && s ~ /(bookworm|stable|trixie|sid|unstable)/){print u; exit}}' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk '$1=="deb"{i=2; if($2 ~ /^\[/){while($i !~ /\]$/) i++; i++}
                   if($(i) !~ /security/ && $(i+1) !~ /-security/ && $(i+1) ~ /(bookworm|stable|trixie|sid|unstable)/){print $(i); exit}}' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
}

URI="$(archive_uri)"
[ -n "$URI" ] || die "no Debian archive found in the machine's apt sources; set SEDX_DEBIAN_ARCHIVE to one"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || die "$KEYRING is missing (package debian-archive-keyring)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=$KEYRING] $URI sid main" > "$work/sources.list"
APT_OPTS=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=/dev/null"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
          -o "Dir::State::status=/var/lib/dpkg/status" -o "APT::Sandbox::User=root" -qq)

say "fetching $VMA_PACKAGE $VMA_TESTED from Debian sid"
if ! apt-get "${APT_OPTS[@]}" update >"$work/update.log" 2>&1; then
    cat "$work/update.log" >&2
    die "cannot read the sid package index from the Debian archive; VMA ($VMA_PACKAGE $VMA_TESTED) is still missing"
fi
offered=$(apt-cache "${APT_OPTS[@]}" madison "$VMA_PACKAGE" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
version=""
for v in $offered; do
    if [ "$v" = "$VMA_TESTED" ]; then version="$v"; break; fi
done
if [ -z "$version" ]; then
    die "the archive no longer offers $VMA_PACKAGE $VMA_TESTED (it offers: ${offered:-nothing}); the patches in patches/vma are written for that version. Port them to a newer VMA, then update VMA_TESTED and both checksums."
fi
(cd "$work" && apt-get "${APT_OPTS[@]}" download "$VMA_PACKAGE=$version" >"$work/download.log" 2>&1) || {
    cat "$work/download.log" >&2
    die "apt-get download of $VMA_PACKAGE=$version failed"
}
rm -rf "$VMA_PREFIX"
mkdir -p "$VMA_PREFIX"
dpkg-deb -x "$work"/"$VMA_PACKAGE"_*.deb "$VMA_PREFIX"
[ -f "$header" ] || die "the downloaded package has no vk_mem_alloc.h"
mkdir -p "$VMA_PREFIX/pristine"
cp "$header" "$pristine"
say "VMA $version is in $VMA_PREFIX"
patch_vma
