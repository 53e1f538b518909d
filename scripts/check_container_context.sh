#!/usr/bin/env bash
# Builds the binary from exactly the files the container's build context holds, in a scratch
# directory, so that a path the build needs and the context lacks fails here (no container
# engine runs on this machine; see README, "Container"). The context is the whitelist in
# .dockerignore; the Dockerfile copies all of it with one `COPY . .` and builds with
# `cargo build --release --locked`. This check builds the same targets from the same files with
# the debug profile, reusing the test build's compiled dependencies: which files a build reads
# does not depend on the profile, and a release build of every dependency would double CI's time.
# The binary it builds is left at target/debug/investai, where CI's API fuzzing pass takes it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

grep -qx 'COPY \. \.' Dockerfile || { echo "container: the Dockerfile must copy the context with one 'COPY . .'" >&2; exit 1; }
grep -qx 'RUN cargo build --release --locked' Dockerfile || { echo "container: the Dockerfile's build command changed; update this check" >&2; exit 1; }
[ "$(head -c 1 <(grep -v '^#' .dockerignore | grep -v '^$'))" = "*" ] || { echo "container: .dockerignore must start with '*' (a whitelist)" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
while read -r path; do
  [ -e "$path" ] || { echo "container: .dockerignore lists $path, which does not exist" >&2; exit 1; }
  cp -r --parents "$path" "$scratch/"
done < <(sed -n 's/^!\(.*\)$/\1/p' .dockerignore | sed 's#/$##')

echo "container: building from the $(find "$scratch" -type f | wc -l) files of the build context"
(cd "$scratch" && CARGO_TARGET_DIR="$root/target" cargo build --locked --quiet --bin investai)
echo "container: the binary builds from the build context alone"
