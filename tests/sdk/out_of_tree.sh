#!/bin/sh
# Builds a plugin as a separate CMake project against the installed SDK, runs its tests and loads
# it into vumi-dispatcher, all in a temporary folder (removed on exit).
#   out_of_tree.sh example  BUILD_DIR SOURCE_DIR DISPATCHER [LAUNCHER]   # sdk/examples/example
#   out_of_tree.sh template BUILD_DIR SOURCE_DIR DISPATCHER [LAUNCHER]   # new-plugin keyword_filter
set -eu
mode=$1 build=$2 source=$3 dispatcher=$4 launcher=${5:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/vumi-sdk-test.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
step() { echo "== $*"; }

step "install the SDK into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" --component sdk
test -f "$work/prefix/include/vumi/plugin.h"
test -f "$work/prefix/lib/cmake/VumiSDK/VumiSDKConfig.cmake"
test -f "$work/prefix/lib/cmake/VumiSDK/VumiSDKConfigVersion.cmake"
version=$(PKG_CONFIG_PATH="$work/prefix/share/pkgconfig" pkg-config --modversion vumi-sdk)
cflags=$(PKG_CONFIG_PATH="$work/prefix/share/pkgconfig" pkg-config --cflags vumi-sdk)
echo "pkg-config vumi-sdk $version: $cflags"
test "$version" = "1.1.0"
include_dir=$(echo "$cflags" | sed 's/^-I//; s/ *$//')
test -f "$include_dir/vumi/plugin.h" || { echo "pkg-config cflags do not lead to vumi/plugin.h"; exit 1; }

case "$mode" in
  example)
    cp -R "$source/sdk/examples/example" "$work/example"
    project=$work/example name=example ;;
  template)
    step "vumi-dispatcher new-plugin keyword_filter"
    "$dispatcher" new-plugin keyword_filter "$work/keyword_filter"
    for f in plugin.cpp CMakeLists.txt keyword_filter_test.cpp README.md config.json .clang-format; do
      test -f "$work/keyword_filter/$f" || { echo "new-plugin did not write $f"; exit 1; }
    done
    project=$work/keyword_filter name=keyword_filter ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac

step "configure and build $name against the installed SDK (only find_package(VumiSDK 1.1))"
set -- -S "$project" -B "$project/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ -n "$launcher" ]; then set -- "$@" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"; fi
cmake "$@"
cmake --build "$project/build" -j2
exports=$(nm -D --defined-only "$project/build/$name.so" | awk '{print $3}')
test "$exports" = "vumi_plugin_entry_v1" || { echo "exports: $exports"; exit 1; }

step "run its tests"
ctest --test-dir "$project/build" --output-on-failure

step "load it with vumi-dispatcher"
if [ "$mode" = template ]; then
  cd "$project"  # its config.json names build/keyword_filter.so
  "$dispatcher" check -c config.json
  config=config.json
else
  config=$work/config.json
  printf '{ "plugin_path": ["%s"], "handlers": { "h": { "type": "noop" } }, "accounts": {} }\n' \
    "$project/build/example.so" > "$config"
fi
"$dispatcher" plugins -c "$config" | tee "$work/plugins.txt"
grep -q "$name" "$work/plugins.txt"
grep -q "refused" "$work/plugins.txt" && { echo "a plugin was refused"; exit 1; }
echo "ok: $name built, tested and loaded out of tree"
