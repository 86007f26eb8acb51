#!/usr/bin/env python3
"""wofcompress.py builds the WofCompressedData stream of a file the way the
Windows Overlay Filter's file provider stores it, with chunks compressed by
libwim (Debian libwim15: wimlib_create_compressor / wimlib_compress), a
compressor no one here wrote.

    wofcompress.py ALGORITHM IN OUT

ALGORITHM is xpress4k, xpress8k, xpress16k or lzx (chunks of 4, 8, 16 or
32 KiB). The stream is a table of (chunks - 1) little-endian offsets, 4
bytes each (8 for files of 4 GiB or more), each giving where chunk i+1
starts counted from the end of the table, then the chunks in order; a
chunk that does not compress to fewer bytes than it holds is stored as it
is. Facts from ntfs-3g-system-compression's system_compression.c.

    wofcompress.py gen-plain OUT

writes the deterministic test content the fixtures use: text lines, x86
CALL (0xE8) sequences that exercise LZX's E8 translation, pseudo-random
bytes (chunks stored raw) and zeros, 200001 bytes in all.
"""
import ctypes
import struct
import sys

TYPES = {"xpress4k": (1, 4096), "xpress8k": (1, 8192), "xpress16k": (1, 16384), "lzx": (2, 32768)}


def compress(alg, data):
    ctype, chunk = TYPES[alg]
    lib = ctypes.CDLL("libwim.so.15")
    lib.wimlib_create_compressor.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)]
    lib.wimlib_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    lib.wimlib_compress.restype = ctypes.c_size_t
    lib.wimlib_free_compressor.argtypes = [ctypes.c_void_p]
    comp = ctypes.c_void_p()
    rc = lib.wimlib_create_compressor(ctype, chunk, 0, ctypes.byref(comp))
    if rc != 0:
        sys.exit("wimlib_create_compressor: %d" % rc)
    chunks = []
    out = ctypes.create_string_buffer(chunk)
    for off in range(0, len(data), chunk):
        piece = data[off:off + chunk]
        n = lib.wimlib_compress(piece, len(piece), out, len(piece) - 1, comp)
        chunks.append(out.raw[:n] if n else piece)
    lib.wimlib_free_compressor(comp)
    fmt = "<I" if len(data) <= 0xFFFFFFFF else "<Q"
    table, pos = b"", 0
    for c in chunks[:-1]:
        pos += len(c)
        table += struct.pack(fmt, pos)
    return table + b"".join(chunks)


def plain():
    out = bytearray()
    x = 12345
    def rnd():
        nonlocal x
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        return x >> 8
    line = 0
    while len(out) < 60000:
        out += b"line %05d of the WOF test file, offset %08d\r\n" % (line, len(out))
        line += 1
    while len(out) < 100000:  # x86-like code: CALL rel32 among other bytes
        out += bytes([0x55, 0x8B, 0xEC, 0xE8]) + struct.pack("<i", (rnd() % 60000) - 30000)
        out += bytes([0x85, 0xC0, 0x74, rnd() & 0xFF, 0xE8]) + struct.pack("<i", rnd() % 200000)
    while len(out) < 140000:  # pseudo-random: incompressible chunks
        out.append(rnd() & 0xFF)
    out += bytes(40000)  # zeros
    while len(out) < 200001:
        out += b"tail %d " % len(out)
    return bytes(out[:200001])


if __name__ == "__main__":
    if sys.argv[1] == "gen-plain":
        open(sys.argv[2], "wb").write(plain())
    else:
        data = open(sys.argv[2], "rb").read()
        open(sys.argv[3], "wb").write(compress(sys.argv[1], data))
