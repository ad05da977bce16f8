#!/bin/sh
# Build the minimal Debian root filesystem examples/rootfs/rootfs.toml
# runs, as the tutorials do: debootstrap --variant=minbase.
# Needs root and Debian's 'debootstrap' package; SUITE defaults to stable.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
suite=${SUITE:-stable}
target="$here/rootfs"
if [ -e "$target/bin/sh" ]; then
    echo "$target already holds a root filesystem"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "install debootstrap first: apt-get install debootstrap" >&2; exit 1; }
debootstrap --variant=minbase "$suite" "$target"
# Readable by the user who will run the sandbox.
chmod 755 "$target"
echo "built $target; run: sandbox run $here/rootfs.toml"
