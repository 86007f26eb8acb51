#!/usr/bin/env bash
# Regenerates the synthetic PE fixtures in testdata/pe and their SHA256SUMS.
# Run from anywhere inside the repository, e.g.: bash testdata/gen/mkpe/gen.sh
# The outputs are deterministic; `go test ./testdata/gen/mkpe` checks that the
# committed files match the generator byte for byte.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
out=testdata/pe
mkdir -p "$out"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/mkpe" ./testdata/gen/mkpe

"$tmp/mkpe" -machine i386 -subsystem native -variant autochk -o "$out/autochk-i386.exe"
"$tmp/mkpe" -machine amd64 -subsystem native -variant autochk -o "$out/autochk-amd64.exe"
"$tmp/mkpe" -machine i386 -subsystem native -variant hook -o "$out/hook-i386.exe"
"$tmp/mkpe" -machine amd64 -subsystem native -variant hook -o "$out/hook-amd64.exe"
"$tmp/mkpe" -machine amd64 -subsystem console -variant hook -o "$out/console-amd64.exe"

(
	cd "$out"
	sha256sum autochk-i386.exe autochk-amd64.exe hook-i386.exe hook-amd64.exe console-amd64.exe >SHA256SUMS
)
