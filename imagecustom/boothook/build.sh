#!/bin/sh
# Builds the boot hook's PEs, hook-i386.exe and hook-amd64.exe, from csrc/
# with Debian's mingw-w64 (gcc-mingw-w64-i686, gcc-mingw-w64-x86-64).
# The output is reproducible: fixed flags, no timestamp, no symbols, no
# paths of the build machine. TestPERebuild runs this into a temporary
# folder and compares the bytes with the committed files.
#
# Usage: ./build.sh [OUTDIR]   (default: this folder)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
cd "$here/csrc"
flags="-std=c11 -O2 -Wall -Wextra -Werror -nostdlib -ffreestanding -fno-builtin
 -fno-ident -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables
 -fno-tree-loop-distribute-patterns -mno-stack-arg-probe -s
 -Wl,--subsystem,native -Wl,--no-insert-timestamp"
# shellcheck disable=SC2086
x86_64-w64-mingw32-gcc $flags -e NtProcessStartup -o "$out/hook-amd64.exe" hook.c decode.c -lntdll
# shellcheck disable=SC2086
i686-w64-mingw32-gcc $flags -e _NtProcessStartup@4 -o "$out/hook-i386.exe" hook.c decode.c -lntdll
