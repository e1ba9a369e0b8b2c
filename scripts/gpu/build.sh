#!/usr/bin/env bash
# Packs what the GPU machine runs into build-gpu/ (git-ignored), from the preset builds this machine
# already has: the test suite from build/debug (exactly what `make test` runs), sedx-mem and
# sedx-bench from build/release (what `make demo` and `make bench` run). Executables are copied and
# stripped, with a manifest of the tests (build-gpu/tests.tsv); the runtime libraries the GPU machine
# lacks go to build-gpu/lib, and the Vulkan loader, the validation layer and what
# NVIDIA's ICD needs beside them (GL dispatch, X11) as Debian packages to .gl/.
# Everything that travels stays well under the 64 MiB a call may carry.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
scripts/install-deps.sh
JOBS=${JOBS:-$(nproc)}
OUT=build-gpu

[ -f build/debug/build.ninja ] || cmake --preset debug >/dev/null
cmake --build --preset debug -j "$JOBS"
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS" --target sedx-mem sedx-bench

rm -rf "$OUT"
mkdir -p "$OUT/lib"
# The tests as CTest knows them, one a line, fields separated by 0x1f:
#   name, working directory, environment, kind, program, arguments, expectation, patterns
# kind: gtest (program + arguments), expect_failure (tests/Support/ExpectFailure.cmake),
# expect_output (tests/Support/ExpectOutput.cmake),
# run_command (tests/Tool/RunCommand.cmake), or cmake_only (needs CMake and a compiler: skipped there).
(cd build/debug && ctest --show-only=json-v1) | ROOT="$ROOT" python3 -c '
import json, os, sys
root = os.environ["ROOT"]
def fix(p): return p.replace(root + "/build/debug", root + "/build-gpu/debug")
for t in json.load(sys.stdin)["tests"]:
    cmd = t.get("command") or []
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    wd = fix(props.get("WORKING_DIRECTORY", root))
    env = " ".join(props.get("ENVIRONMENT", []))
    kind, program, args, expect, patterns = "gtest", "", "", "", ""
    if cmd and os.path.basename(cmd[0]) == "cmake":
        defs = {a[2:].split("=", 1)[0]: a[2:].split("=", 1)[1] for a in cmd if a.startswith("-D") and "=" in a}
        script = cmd[-1]
        if script.endswith("ExpectFailure.cmake"):
            kind, program, patterns = "expect_failure", fix(defs["PROGRAM"]), defs.get("EXPECT_OUTPUT", "")
        elif script.endswith("ExpectOutput.cmake"):
            kind, program, patterns = "expect_output", fix(defs["PROGRAM"]), defs.get("EXPECT_OUTPUT", "")
        elif script.endswith("RunCommand.cmake"):
            kind, program = "run_command", fix(defs["PROGRAM"])
            args, expect, patterns = defs.get("ARGS", ""), defs["EXPECT"], defs.get("EXPECT_STDERR", "")
            if "EXIT_CODE" in defs:
                expect += ":" + defs["EXIT_CODE"]  # FAIL:<the exit code it must have>
        else:
            kind = "cmake_only"
    else:
        program, args = fix(cmd[0]), "|".join(cmd[1:])
    # Arguments keep their build/debug paths (the tests compiled in the same ones): run.sh makes the
    # folders listed in build-gpu/dirs.txt.
    patterns = patterns.replace("\n", "\x1e")  # one line a test: newlines travel as 0x1e
    print("\x1f".join([t["name"], wd, env, kind, program, args, expect, patterns]))
' > "$OUT/tests.tsv"

# The build tree's folders, which tests write into (their paths are compiled in).
(cd build/debug && find . -type d -not -path '*CMakeFiles*' -not -path './tests/consumer-*') |
    sed 's#^\.#build/debug#' > "$OUT/dirs.txt"

copy_exe() { # <path under build/...> <destination tree>
    local rel="${1#build/}" dest
    dest="$OUT/$rel"
    mkdir -p "$(dirname "$dest")"
    cp "$1" "$dest"
    strip --strip-unneeded "$dest"
}
cut -d$'\x1f' -f5 "$OUT/tests.tsv" | sort -u | while read -r exe; do
    [ -n "$exe" ] || continue
    src="${exe/$ROOT\/build-gpu\//build/}"
    if [ -f "$src" ]; then copy_exe "$src"; fi
done
copy_exe build/release/tools/sedx-mem/sedx-mem
copy_exe build/release/bench/sedx-bench
# sedx-mem draws its pictures' text with DejaVu Sans (fonts-dejavu-core), which that machine lacks.
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$OUT/"
for lib in libspdlog.so.1.10 libfmt.so.9 libbenchmark.so.1debian; do
    cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$OUT/lib/"
done

mkdir -p .gl
# The loader and the layer, and what NVIDIA's ICD (libGLX_nvidia) loads beside them: GL dispatch and X11.
(cd .gl && for p in libvulkan1 vulkan-validationlayers libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 \
                  libx11-6 libxcb1 libxau6 libxdmcp6 libxext6 libbsd0 libmd0; do
     ls ${p}_*.deb >/dev/null 2>&1 || apt-get download -qq "$p"
 done)
du -sh "$OUT" .gl
