#!/usr/bin/env bash
# Smoke test of the packed library, as a consumer sees it:
#   1. dotnet pack src/Microsoft.ML.DomainAdaptation (Release) into a temporary feed, and check the nupkg's layout
#      (lib + xml docs, buildTransitive targets and their task source, README) and dependencies (exactly Microsoft.ML
#      [5.0.1, 5.1), Google.Protobuf, OnnxRuntime's managed API and TorchSharp: no libtorch or native OnnxRuntime, the
#      application chooses them);
#   2. copy build/PackageSmoke/Consumer to a temporary folder outside the repository (no Directory.Build.props or
#      central package management from here), with a nuget.config of the temporary feed + nuget.org;
#   3. drop a cached copy of the same package version from the global packages folder, restore, build and run it:
#      it trains DANN on synthetic data, evaluates, saves and reloads the model (see Consumer/Program.cs);
#   4. restore and build the same consumer for Windows x64 and macOS arm64 (-r win-x64, -r osx-arm64: it references
#      libtorch-cpu-win-x64 / -osx-arm64 there), which checks that the package restores and compiles for them;
#   5. run build/fsi-smoke.fsx in F# Interactive against the temporary feed: TorchSharp from the NuGet cache, no build
#      output (on Debian 12 this needs the library's own preload of a patched libLibTorchSharp.so).
# Prints "package smoke: OK (accuracy ...)" on success; any failure exits non-zero. Runs from any working directory.
# PACKAGE_SMOKE_OTHER_RIDS="" skips step 4 (it downloads about 600 MB of libtorch once), PACKAGE_SMOKE_FSI=0 step 5.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd -P)"
started=$SECONDS

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

package_id="Microsoft.ML.DomainAdaptation"
project="src/$package_id"
template="build/PackageSmoke/Consumer"

fail() {
  echo "package smoke: FAILED: $*" >&2
  exit 1
}

for tool in dotnet unzip; do
  command -v "$tool" >/dev/null || fail "'$tool' is required"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/da-package-smoke.XXXXXX")"
work="$(cd "$work" && pwd -P)"
trap 'rm -rf "$work"' EXIT
case "$work/" in
  "$repo"/*) fail "temporary folder $work is inside the repository; set TMPDIR elsewhere" ;;
esac
feed="$work/feed"
consumer="$work/consumer"
mkdir -p "$feed" "$consumer"

# Two runs at once would delete each other's restored package from the global packages folder: take turns.
if command -v flock >/dev/null; then
  exec 9>"${TMPDIR:-/tmp}/da-package-smoke.lock"
  flock -w 3600 9 || fail "another package smoke run holds ${TMPDIR:-/tmp}/da-package-smoke.lock"
fi

# --- 1. Pack ----------------------------------------------------------------------------------------------------
# --artifacts-path keeps this build's bin/obj in the temporary folder, away from src/*/bin and obj of concurrent
# builds and tests of the working tree (restore would otherwise rewrite the shared obj/project.assets.json).
echo "package smoke: packing $project"
dotnet pack "$project" -c Release -o "$feed" --artifacts-path "$work/artifacts" -nodeReuse:false

shopt -s nullglob
nupkgs=("$feed/$package_id".[0-9]*.nupkg)
shopt -u nullglob
[ "${#nupkgs[@]}" -eq 1 ] || fail "expected one $package_id.<version>.nupkg in the feed, found: $(ls "$feed")"
nupkg="${nupkgs[0]}"

nuspec="$(unzip -p "$nupkg" "$package_id.nuspec")" || fail "$nupkg has no $package_id.nuspec"
version="$(sed -n 's:.*<version>\([^<]*\)</version>.*:\1:p' <<<"$nuspec" | head -n 1)"
[ -n "$version" ] || fail "no <version> in the nuspec"
echo "package smoke: packed $(basename "$nupkg") (version $version)"

# --- Package layout and dependencies ----------------------------------------------------------------------------
entries="$(unzip -Z1 "$nupkg")"
for required in \
  "lib/net10.0/$package_id.dll" \
  "lib/net10.0/$package_id.xml" \
  "buildTransitive/$package_id.targets" \
  "buildTransitive/LibTorchSharpPatch.cs" \
  "README.md"; do
  grep -qxF "$required" <<<"$entries" || fail "$(basename "$nupkg") lacks $required (it has: $(tr '\n' ' ' <<<"$entries"))"
done
grep -q '<readme>README.md</readme>' <<<"$nuspec" || fail "the nuspec does not declare <readme>README.md</readme>"

# id=version pairs: Microsoft.ML on the tested 5.0.x line only (the library binds to its internals), TorchSharp from
# the built version on, Google.Protobuf (reading ONNX models for the ONNX and ResNet backbones; ML.NET's OnnxTransformer
# brings it too), OnnxRuntime's managed API (scoring; the application references the native runtime, the consumer the CPU
# one); no libtorch package (the application references the one for its platform).
dependencies="$(grep -o '<dependency [^>]*>' <<<"$nuspec" |
  sed -n 's/.* id="\([^"]*\)" version="\([^"]*\)".*/\1=\2/p' | sort -u | tr '\n' ' ')"
expected="$(printf '%s\n' 'Google.Protobuf=3.36.2' 'Microsoft.ML=[5.0.1, 5.1.0)' 'Microsoft.ML.OnnxRuntime.Managed=1.31.1' 'TorchSharp=0.107.0' | sort -u | tr '\n' ' ')"
[ "$dependencies" = "$expected" ] ||
  fail "nuspec dependencies are '${dependencies% }', expected exactly '${expected% }'"
echo "package smoke: nupkg layout and dependencies (${dependencies% }) OK"

# --- 2. Consumer project outside the repository -----------------------------------------------------------------
cp -R "$template/." "$consumer/"
rm -rf "$consumer/bin" "$consumer/obj"

# Stop MSBuild's upward search here (a Directory.Build.props/Directory.Packages.props above /tmp must not apply).
cat >"$consumer/Directory.Build.props" <<EOF
<Project>
  <PropertyGroup>
    <DomainAdaptationVersion>$version</DomainAdaptationVersion>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <ImportDirectoryPackagesProps>false</ImportDirectoryPackagesProps>
  </PropertyGroup>
</Project>
EOF
echo '<Project />' >"$consumer/Directory.Build.targets"

# The library comes from the temporary feed only; everything else from nuget.org.
cat >"$consumer/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="package-smoke" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="package-smoke">
      <package pattern="$package_id" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
EOF

# --- 3. Restore, build, run -------------------------------------------------------------------------------------
cd "$consumer"
global_packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')"
global_packages="${global_packages:-${NUGET_PACKAGES:-$HOME/.nuget/packages}}"
cached="${global_packages%/}/$(tr '[:upper:]' '[:lower:]' <<<"$package_id")/$(tr '[:upper:]' '[:lower:]' <<<"$version")"
if [ -e "$cached" ]; then
  echo "package smoke: removing stale $cached"
  rm -rf "$cached"
fi

echo "package smoke: building the consumer in $consumer"
dotnet build -c Release -nodeReuse:false

# The restored package must be the one just packed, and its buildTransitive targets must be imported.
if command -v openssl >/dev/null && [ -f "$cached/$(basename "$nupkg" | tr '[:upper:]' '[:lower:]').sha512" ]; then
  [ "$(openssl dgst -sha512 -binary "$nupkg" | base64 -w0)" = "$(cat "$cached/$(basename "$nupkg" | tr '[:upper:]' '[:lower:]').sha512")" ] ||
    fail "the restored $package_id $version in $cached is not the package just packed"
else
  [ -d "$cached" ] || fail "$package_id $version was not restored to $cached"
fi
grep -q "buildTransitive/$package_id.targets" obj/Consumer.csproj.nuget.g.targets ||
  fail "obj/Consumer.csproj.nuget.g.targets does not import buildTransitive/$package_id.targets"

echo "package smoke: running the consumer"
status=0
output="$(dotnet run -c Release --no-build 2>&1)" || status=$?
printf '%s\n' "$output"
[ "$status" -eq 0 ] || fail "the consumer exited with $status"
accuracy="$(sed -n 's/^accuracy=//p' <<<"$output" | tail -n 1)"
[ -n "$accuracy" ] || fail "the consumer printed no accuracy"


# --- 4. Other platforms: restore and build only (no libtorch of theirs runs here) ----------------------------------
for rid in ${PACKAGE_SMOKE_OTHER_RIDS-win-x64 osx-arm64}; do
  echo "package smoke: building the consumer for $rid"
  rid_started=$SECONDS
  rm -rf "$work/consumer-$rid"
  cp -R "$repo/$template/." "$work/consumer-$rid/"
  rm -rf "$work/consumer-$rid/bin" "$work/consumer-$rid/obj"
  cp "$consumer/Directory.Build.props" "$consumer/Directory.Build.targets" "$consumer/nuget.config" "$work/consumer-$rid/"
  (cd "$work/consumer-$rid" && dotnet build -c Release -r "$rid" -nodeReuse:false) ||
    fail "the consumer does not build for $rid"
  native="$(find "$work/consumer-$rid/bin" -name 'torch_cpu.dll' -o -name 'libtorch_cpu.dylib' | head -n 1)"
  [ -n "$native" ] || fail "the $rid build output has no libtorch (torch_cpu.dll / libtorch_cpu.dylib)"
  onnx_native="$(find "$work/consumer-$rid/bin" -name 'onnxruntime.dll' -o -name 'libonnxruntime.dylib' | head -n 1)"
  [ -n "$onnx_native" ] || fail "the $rid build output has no native OnnxRuntime (onnxruntime.dll / libonnxruntime.dylib)"
  echo "package smoke: $rid build OK ($((SECONDS - rid_started)) s)"
done

# --- 5. F# Interactive: the package straight from the NuGet cache ------------------------------------------------
if [ "${PACKAGE_SMOKE_FSI:-1}" != 0 ]; then
  fsi_started=$SECONDS
  mkdir -p "$work/fsi"
  sed -e "s|__FEED__|$feed|g" -e "s|__VERSION__|$version|g" "$repo/build/fsi-smoke.fsx" >"$work/fsi/fsi-smoke.fsx"
  echo "package smoke: dotnet fsi fsi-smoke.fsx"
  (cd "$work/fsi" && dotnet fsi fsi-smoke.fsx) || fail "the F# Interactive script failed"
  echo "package smoke: F# Interactive OK ($((SECONDS - fsi_started)) s)"
fi

echo "package smoke: OK (accuracy $accuracy, $((SECONDS - started)) s)"
