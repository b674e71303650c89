"""Mutations of data files for the fuzz suite: blind byte edits and edits that know each format.

Blind edits (bit flips, truncation, insertion, splices) find what nobody
thought of; format-aware edits get past the first check of each format and
reach the code behind it: IDX dimensions, NPY header dictionaries, zip
directory fields, CSV cells, PGM header numbers, PNG chunks with their CRCs
fixed. Every function takes a ``random.Random`` so that a case is reproduced
from its seed alone.
"""
import gzip
import re
import struct
import zlib

from hostile_files import PARSER_TRAPS, header_text, npy_bytes, png_chunk

INTERESTING_INTS = [0, 1, 2, 3, 7, 8, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                    0xFFFFFFFE, 0xFFFFFFFF]
INTERESTING_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x23, 0x2C, 0x22, 0x39]


# ------------------------------------------------------------------ blind edits ---
def flip_bits(data: bytes, rng) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def set_bytes(data: bytes, rng) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] = rng.choice(INTERESTING_BYTES + [rng.randrange(256)])
    return bytes(out)


def set_word(data: bytes, rng) -> bytes:
    if len(data) < 4:
        return data
    i = rng.randrange(len(data) - 3)
    value = rng.choice(INTERESTING_INTS)
    return data[:i] + struct.pack(rng.choice([">I", "<I"]), value) + data[i + 4:]


def truncate(data: bytes, rng) -> bytes:
    return data[:rng.randrange(len(data) + 1)] if data else data


def append(data: bytes, rng) -> bytes:
    tail = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return data + rng.choice([tail, b"\0" * rng.randint(1, 4096), b"\n", data[:64]])


def delete_range(data: bytes, rng) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 32):]


def insert_range(data: bytes, rng) -> bytes:
    i = rng.randrange(len(data) + 1)
    if data and rng.random() < 0.5:
        j = rng.randrange(len(data))
        piece = data[j:j + rng.randint(1, 64)]  # a copy of part of the file itself
    else:
        piece = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return data[:i] + piece + data[i:]


BLIND = [flip_bits, set_bytes, set_word, truncate, append, delete_range, insert_range]


def blind(data: bytes, rng, count: int | None = None) -> bytes:
    for _ in range(count or rng.randint(1, 3)):
        data = rng.choice(BLIND)(data, rng)
    return data


def splice(a: bytes, b: bytes, rng) -> bytes:
    return a[:rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1):]


# ------------------------------------------------------------------ IDX ---
def idx_edit(content: bytes, rng) -> bytes:
    """Edit an IDX file's header fields: type code, number of dimensions, one dimension."""
    out = bytearray(content)
    if len(out) < 4:
        return bytes(out)
    choice = rng.randrange(4)
    if choice == 0:
        out[2] = rng.choice([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, rng.randrange(256)])
    elif choice == 1:
        out[3] = rng.choice([0, 1, 2, 3, 4, 255, rng.randrange(256)])
    else:
        ndim = out[3]
        if ndim and len(out) >= 4 + 4 * ndim:
            k = rng.randrange(ndim)
            out[4 + 4 * k:8 + 4 * k] = struct.pack(">I", rng.choice(INTERESTING_INTS))
    return bytes(out)


def gzip_of(content: bytes, rng) -> bytes:
    return gzip.compress(content, compresslevel=rng.choice([1, 6, 9]), mtime=0)


# ------------------------------------------------------------------ NPY headers ---
DESCRS = ["'<f4'", "'<f8'", "'|u1'", "'<i8'", "'|b1'", "'>i2'", "'<c16'", "'|O'", "'<U3'", "'|S0'", "'|V0'",
          "'|V8'", "'<M8[s]'", "'<m8[bogus]'", "'f8,i4'", "[('a', '<i4'), ('b', '<f8')]", "[('a', '|O')]",
          "[('', '|V4'), ('b', '<f4')]", "[('a', '<f4', (2, 3))]", "('<f8', (2,))", "('<f8', 5, 6)", "[1, 2]",
          "[('a',)]", "'<f8\\x00'", "'U99999999999'", "('<f8', (10**30,))", "{'names': ['a']}", "None", "3",
          "[('a', '<i4'), ('a', '<i4')]", "'<' * 50", "(((('<f8', (2,)), (2,)), (2,)), (2,))", "b'<f8'"]
SHAPES = ["()", "(0,)", "(1,)", "(3,)", "(4, 3)", "(2, 2, 2)", "(-1,)", "(True,)", "(3.0,)", "('3',)", "[3]",
          "3", "(0, 10**18)", "(10**18,)", "(2**62, 2)", "(2**31, 2**31)", "(9999999999999999999999,)",
          "((3,),)", "(" + "1, " * 65 + ")", "(1, -0)", "(None,)", "{3}", "(3, 4, 0)"]
FORTRAN = ["False", "True", "0", "1", "'x'", "None"]
EXTRA = ["", "'extra': 1, ", "'descr': '<f4', ", "1: 2, "]


def npy_header(rng) -> str:
    """A header dictionary from a grammar of valid and hostile field values (or a parser trap)."""
    if rng.random() < 0.1:
        return rng.choice(list(PARSER_TRAPS.values()))
    descr, shape = rng.choice(DESCRS), rng.choice(SHAPES)
    if "**" in descr or "**" in shape or "*" in descr:
        descr, shape = (_evaluate_powers(v) for v in (descr, shape))
    fields = [f"'descr': {descr}, ", f"'fortran_order': {rng.choice(FORTRAN)}, ", f"'shape': {shape}, "]
    if rng.random() < 0.2:
        fields.pop(rng.randrange(3))
    if rng.random() < 0.2:
        fields.append(rng.choice(EXTRA))
    rng.shuffle(fields)
    return "{" + "".join(fields) + "}" + " " * rng.randrange(8) + "\n"


def _evaluate_powers(text: str) -> str:
    """Spell ``10**30`` and ``'<' * 50`` out: a header holds literals, not expressions."""
    text = re.sub(r"(\d+)\*\*(\d+)", lambda m: str(int(m.group(1)) ** int(m.group(2))), text)
    return re.sub(r"'(.)' \* (\d+)", lambda m: repr(m.group(1) * int(m.group(2))), text)


def npy_edit(data: bytes, rng) -> bytes:
    """Edit an .npy file: a new header from the grammar, the version, the header length, the data."""
    if len(data) < 10 or not data.startswith(b"\x93NUMPY"):
        return blind(data, rng)
    version = data[6]
    length_size = 2 if version == 1 else 4
    (length,) = struct.unpack("<H" if length_size == 2 else "<I", data[8:8 + length_size])
    body = data[8 + length_size + length:]
    choice = rng.randrange(6)
    if choice <= 1:
        return npy_bytes(npy_header(rng), body, version=rng.choice([1, 1, 2, 3]))
    if choice == 2:  # the same header text under another version or with a lying length field
        header = data[8 + length_size:8 + length_size + length]
        lie = max(0, length + rng.choice([-5, -1, 1, 5, 10000, 70000]))
        size = struct.pack("<H", min(lie, 0xFFFF)) if length_size == 2 else struct.pack("<I", lie)
        return data[:6] + bytes([rng.choice([1, 2, 3, 0, 4, 255]), data[7]]) + size + header + body
    if choice == 3:  # blind edits inside the header text only
        header = data[8 + length_size:8 + length_size + length]
        return data[:8 + length_size] + blind(header, rng)[:length].ljust(length, b" ") + body
    if choice == 4:
        return npy_bytes(header_text(descr=rng.choice(DESCRS[:8]), shape=rng.choice(SHAPES[:6])), body)
    return data[:8 + length_size + length] + blind(body, rng)


# ------------------------------------------------------------------ zip directory ---
CENTRAL = b"PK\x01\x02"
LOCAL = b"PK\x03\x04"
END = b"PK\x05\x06"
# (offset within the record, struct format) of the fields worth lying in
CENTRAL_FIELDS = [(8, "<H"), (10, "<H"), (16, "<I"), (20, "<I"), (24, "<I"), (28, "<H"), (30, "<H"), (42, "<I")]
LOCAL_FIELDS = [(6, "<H"), (8, "<H"), (14, "<I"), (18, "<I"), (22, "<I"), (26, "<H"), (28, "<H")]
END_FIELDS = [(8, "<H"), (10, "<H"), (12, "<I"), (16, "<I"), (20, "<H")]
ZIP_VALUES = [0, 1, 8, 12, 14, 99, 0x0800, 0x0001, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]


def zip_edit(data: bytes, rng) -> bytes:
    """Lie in one field of a zip record: method, flags, sizes, name length, offsets, entry counts."""
    signature, fields = rng.choice([(CENTRAL, CENTRAL_FIELDS), (LOCAL, LOCAL_FIELDS), (END, END_FIELDS)])
    positions = [m.start() for m in re.finditer(re.escape(signature), data)]
    if not positions:
        return blind(data, rng)
    at = rng.choice(positions)
    offset, fmt = rng.choice(fields)
    size = struct.calcsize(fmt)
    if at + offset + size > len(data):
        return data
    (old,) = struct.unpack(fmt, data[at + offset:at + offset + size])
    value = rng.choice(ZIP_VALUES + [old + 1, max(0, old - 1), old * 2, rng.randrange(1 << (8 * size))])
    value &= (1 << (8 * size)) - 1
    return data[:at + offset] + struct.pack(fmt, value) + data[at + offset + size:]


# ------------------------------------------------------------------ CSV ---
CSV_TOKENS = ["", " ", "nan", "NaN", "inf", "-inf", "1e999", "1e-400", "0x10", "1_0", " 3 ", "+4", "-0", "٣",
              "3.5.1", "\"7\"", "\"unterminated", "\"a,b\"", "\x00", "１２", "1e5", "9" * 400, "abc", "\ufeff1",
              "\"\"", "'5'", "TRUE"]


def csv_edit(data: bytes, rng) -> bytes:
    """Replace cells and separators of a CSV file with awkward tokens, or break its encoding."""
    text = data.decode("utf-8", errors="replace")
    choice = rng.randrange(6)
    cells = re.split(r"(,|\n)", text)
    if choice <= 2 and len(cells) > 1:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(0, len(cells), 2)
            cells[i] = rng.choice(CSV_TOKENS)
        return "".join(cells).encode("utf-8")
    if choice == 3:  # add or drop a separator, or change line endings
        edit = rng.choice([(",", ",,"), (",", ""), ("\n", "\r\n"), ("\n", "\r"), ("\n", "\n\n"), (",", ";")])
        return text.replace(*edit, rng.randint(1, 3)).encode("utf-8")
    if choice == 4:  # bytes that are not UTF-8, a BOM, a NUL
        i = rng.randrange(len(data) + 1)
        return data[:i] + rng.choice([b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\x00", b"\xed\xa0\x80"]) + data[i:]
    return blind(data, rng)


# ------------------------------------------------------------------ PGM ---
PGM_NUMBERS = [b"0", b"1", b"255", b"256", b"65535", b"65536", b"999999999", b"1000000000", b"9" * 12,
               b"-1", b"00000000008", b"1e3", b""]


def pgm_edit(data: bytes, rng) -> bytes:
    """Replace one of the header's numbers, or its magic, or add comments and whitespace."""
    numbers = list(re.finditer(rb"\d+", data[:40]))
    choice = rng.randrange(4)
    if choice <= 1 and numbers:
        m = rng.choice(numbers[:3])
        return data[:m.start()] + rng.choice(PGM_NUMBERS) + data[m.end():]
    if choice == 2:
        return rng.choice([b"P2", b"P5", b"P6", b"P1", b"p5"]) + data[2:]
    i = rng.randrange(min(len(data), 20) + 1)
    return data[:i] + rng.choice([b"# c\n", b"#", b" \t\r\n", b"\n# no end", b" " * 1000]) + data[i:]


# ------------------------------------------------------------------ PNG ---
def png_chunks(data: bytes) -> list | None:
    """[(type, payload)] of a PNG, or None if it does not parse as chunks."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    chunks, pos = [], 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunks.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def png_edit(data: bytes, rng) -> bytes:
    """Edit a PNG's header fields or image data and fix the CRCs, so that the decoder meets the lie."""
    chunks = png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        return blind(data, rng)
    choice = rng.randrange(4)
    if choice <= 1:
        fields = list(struct.unpack(">IIBBBBB", chunks[0][1]))
        k = rng.randrange(7)
        fields[k] = rng.choice(INTERESTING_INTS if k < 2 else [0, 1, 2, 3, 4, 6, 8, 16, 255])
        fields[k] &= 0xFFFFFFFF if k < 2 else 0xFF
        chunks[0] = (b"IHDR", struct.pack(">IIBBBBB", *fields))
    elif choice == 2:
        idat = [i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT"]
        if idat:
            i = rng.choice(idat)
            try:
                raw = zlib.decompress(chunks[i][1])
            except zlib.error:
                raw = chunks[i][1]
            chunks[i] = (b"IDAT", zlib.compress(blind(raw, rng)))
    else:
        i = rng.randrange(len(chunks))
        chunks[i] = (chunks[i][0], blind(chunks[i][1], rng))
    return b"\x89PNG\r\n\x1a\n" + b"".join(png_chunk(kind, payload) for kind, payload in chunks)
