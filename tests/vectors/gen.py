#!/usr/bin/python3
"""Test vectors for other implementers of the socdir envelope and peer wire.

An implementation of the byte rules of proto/PROTOCOL.md (sections 2 and
4.3) that shares no code with the C one: envelopes and frames are built
here with msgpack-python (use_bin_type=True) and signed with PyNaCl
(Ed25519); what msgpack-python cannot produce (non-minimal headers, float32,
strings that are not UTF-8, duplicate keys) is written byte by byte.

    /usr/bin/python3 tests/vectors/gen.py           # writes the two files
    /usr/bin/python3 tests/vectors/gen.py --check   # exit 1 if they differ

Needs Debian's python3-msgpack and python3-nacl (scripts/setup installs
them). The output is deterministic: fixed key seeds, fixed clock, and
Ed25519 signatures are deterministic. tests/vectors/README.md documents
the file format and every case family.
"""
import argparse
import hashlib
import os
import struct
import sys

import msgpack
import nacl.signing

HERE = os.path.dirname(os.path.abspath(__file__))

NOW = 1800000000000                  # the verdict's "now", ms since the epoch
FUTURE_MS = 600000                   # ts may be at most this far ahead of now
SEQ_MAX = 2**53 - 1                  # seq, ts, counts: below 2^53
PAYLOAD_MAX = 48 * 1024              # bytes in a payload
ENV_MAX = PAYLOAD_MAX + 1024         # bytes in an envelope
TEXT_MAX = 8192                      # bytes in one text value
DEPTH_MAX = 30                       # container levels of a body (body map = 1)
KEY_MAX = 255                        # bytes in a map key of a body
NAME_MAX = 128                       # HELLO name: fewer bytes than this
BATCH_MAX = 512                      # envelopes in ENTRIES / PUSH
DOMAIN = b"socdir/entry/v1\x00"      # signed: DOMAIN + vid (48 bytes)

ORIGIN_SEED = bytes(range(0x01, 0x21))   # 01 02 .. 20
OTHER_SEED = bytes(range(0x41, 0x61))    # 41 42 .. 60
ORIGIN_KEY = nacl.signing.SigningKey(ORIGIN_SEED)
OTHER_KEY = nacl.signing.SigningKey(OTHER_SEED)
ORIGIN = bytes(ORIGIN_KEY.verify_key)
OTHER = bytes(OTHER_KEY.verify_key)

# ---- msgpack building blocks ----

_packer = msgpack.Packer(use_bin_type=True)


class Raw(bytes):
    """Bytes that are already msgpack: copied into the output as they are."""


class Pairs(list):
    """A map written as these (key, value) pairs, in this order, duplicates
    and non-string keys included."""


def mp(v):
    return msgpack.packb(v, use_bin_type=True)


def enc(v):
    """msgpack of v; dicts keep their insertion order, Raw is verbatim."""
    if isinstance(v, Raw):
        return bytes(v)
    if isinstance(v, (Pairs, dict)):
        items = v if isinstance(v, Pairs) else list(v.items())
        return _packer.pack_map_header(len(items)) + b"".join(enc(k) + enc(x) for k, x in items)
    if isinstance(v, (list, tuple)) and not isinstance(v, msgpack.ExtType):
        return _packer.pack_array_header(len(v)) + b"".join(enc(x) for x in v)
    return mp(v)


def str_raw(b):
    """A msgpack str holding bytes b (UTF-8 or not), minimal header."""
    n = len(b)
    if n < 32:
        h = bytes([0xA0 | n])
    elif n < 256:
        h = b"\xd9" + bytes([n])
    elif n < 65536:
        h = b"\xda" + struct.pack(">H", n)
    else:
        h = b"\xdb" + struct.pack(">I", n)
    return Raw(h + b)


def sorted_body(v):
    """v with every map's keys in bytewise order of their UTF-8 (what socdir
    writes; any order is valid)."""
    if isinstance(v, dict):
        return {k: sorted_body(v[k]) for k in sorted(v, key=lambda k: k.encode())}
    if isinstance(v, list):
        return [sorted_body(x) for x in v]
    return v


def with_fields(body, **extra):
    d = dict(body)
    d.update(extra)
    return sorted_body(d)


# ---- envelopes ----

def vid_of(payload):
    return hashlib.blake2b(payload, digest_size=32).digest()


def sign(payload, key=ORIGIN_KEY, domain=True):
    msg = (DOMAIN if domain else b"") + vid_of(payload)
    return key.sign(msg).signature


def payload_fields(body, kind="organisation", id="glanzwerk", seq=7, ts=NOW, deleted=False):
    return [1, ORIGIN, id, kind, seq, ts, deleted, body]


def payload(body, **kw):
    return enc(payload_fields(body, **kw))


def envelope(p, sig=None):
    return enc([p, sign(p) if sig is None else sig])


def entry(body, **kw):
    return envelope(payload(sorted_body(body) if isinstance(body, dict) else body, **kw))


ORG = {"country": "AT", "name": {"en": "Glanzwerk"}}
OFFER = {"name": {"en": "Office cleaning"}, "offer_type": "service", "organisation": "glanzwerk"}
PART = {"name": {"en": "Joint bid"}, "partners": [{"name": "X", "role": "buyer"}],
        "partnership_types": ["joint_bid"]}
EVENT = {"event_type": "fair", "name": {"en": "Social economy fair"}, "start": "2027-01-21"}
PROG = {"name": {"en": "Training"}, "programme_type": "training"}


def nested_arrays(n):
    """n arrays, each holding the next, the innermost empty."""
    v = []
    for _ in range(n - 1):
        v = [v]
    return v


def padded_payload(size):
    """An organisation payload of exactly size bytes: the pad is an unknown
    string field."""
    n = 1000
    base = len(payload(with_fields(ORG, pad="p" * n)))
    n += size - base
    p = payload(with_fields(ORG, pad="p" * n))
    assert len(p) == size, (len(p), size)
    return p


def envelope_cases():
    cases = []

    def add(verdict, name, data, what):
        cases.append((verdict, name, bytes(data), what))

    valid = entry(ORG)

    # -- accept --
    add("accept", "organisation-minimal", valid, "a minimal organisation, seq 7, ts = now")
    add("accept", "offer-minimal", entry(OFFER, kind="offer", id="cleaning"),
        "a minimal offer: name, organisation (an id), offer_type")
    add("accept", "partnership-minimal", entry(PART, kind="partnership", id="bid"),
        "a minimal partnership: name, partners, partnership_types")
    add("accept", "event-minimal", entry(EVENT, kind="event", id="fair"),
        "a minimal event: name, event_type, start (a date)")
    add("accept", "programme-minimal", entry(PROG, kind="programme", id="training"),
        "a minimal programme: name, programme_type")
    add("accept", "seq-1", entry(ORG, seq=1), "seq 1, the lowest")
    add("accept", "seq-max", entry(ORG, seq=SEQ_MAX), "seq 2^53-1, the highest (uint64 form)")
    add("accept", "ts-0", entry(ORG, ts=0), "ts 0")
    add("accept", "ts-future-limit", entry(ORG, ts=NOW + FUTURE_MS),
        "ts = now + 600000: exactly as far ahead as allowed")
    add("accept", "id-64-chars", entry(ORG, id="a" * 30 + "-._" + "Z9" * 15 + "b"),
        "an id of exactly 64 characters of [A-Za-z0-9._-]")
    add("accept", "depth-30", entry(with_fields(ORG, deep=nested_arrays(DEPTH_MAX - 1))),
        "body nesting 30 levels: the body map, then 29 nested arrays in an unknown field")
    add("accept", "key-255-bytes", entry(with_fields(ORG, **{"k" * KEY_MAX: 1})),
        "an unknown field whose name is 255 bytes")
    add("accept", "key-empty-nested", entry(with_fields(ORG, x_map={"": "empty key"})),
        "an empty-string key in a map held by an unknown field")
    add("accept", "payload-49152", envelope(padded_payload(PAYLOAD_MAX)),
        "a payload of exactly 49152 bytes (an unknown string field pads it)")
    add("accept", "value-float64", entry(with_fields(ORG, x_float=1.5)),
        "a float64 value (cb) in an unknown field")
    add("accept", "value-negative-integers",
        entry(with_fields(ORG, x_neg=[-1, -33, -129, -2**63])),
        "-1 (ff), -33 (d0), -129 (d1), -2^63 (d3) in an unknown field")
    add("accept", "value-nil", entry(with_fields(ORG, x_nil=None)), "nil in an unknown field")
    add("accept", "region-greece-el", entry(with_fields(ORG, country="GR", region="EL30")),
        "country GR with region EL30: NUTS writes Greece as EL")
    add("accept", "region-uk-prefix", entry(with_fields(ORG, country="GB", region="UKI3")),
        "country GB with region UKI3: NUTS 2016 writes the United Kingdom as UK")
    add("accept", "event-start-leap-day", entry(with_fields(EVENT, start="2028-02-29"), kind="event",
                                                id="fair"), "an event starting 2028-02-29 (a leap year)")
    add("accept", "event-end-same-day",
        entry(with_fields(EVENT, start="2027-03-10T09:00:00+01:00", end="2027-03-10"), kind="event",
              id="fair"), "end 2027-03-10 (a date) with start that day at 09:00: dates compare")
    add("accept", "description-newline-tab",
        entry(with_fields(ORG, description={"en": "Line one\n\tLine two"})),
        "a description holding a newline and a tab (allowed there)")
    add("accept", "control-in-unknown-field", entry(with_fields(ORG, x_note="\x1b[31m")),
        "ESC in an unknown field: unknown fields are not checked")
    add("accept", "keys-unsorted", entry(Pairs([("name", {"en": "Glanzwerk"}), ("country", "AT")])),
        "body keys not in byte order (name before country): any order is canonical")
    add("accept", "tombstone", entry({}, deleted=True), "a tombstone with an empty body map")
    add("accept", "str8-32-bytes",
        entry(with_fields(ORG, name={"en": "Glanzwerk Gebaeudereinigung GmbH"})),
        "a 32-byte string, the shortest with a str8 header (d9 20)")
    add("accept", "text-8192-bytes", entry(with_fields(ORG, name={"en": "t" * TEXT_MAX})),
        "name.en of exactly 8192 bytes")
    add("accept", "text-8192-bytes-utf8",
        entry(with_fields(ORG, name={"en": "\u00f6" * (TEXT_MAX // 2)})),
        "name.en of 4096 two-byte characters: 8192 bytes (limits count bytes)")

    # -- malformed: structure --
    p = payload(sorted_body(ORG))
    sig = sign(p)
    add("malformed", "not-msgpack", b"\xc1", "the byte c1, never used by msgpack")
    add("malformed", "trailing-byte", valid + b"\x00", "a valid envelope and one byte more")
    add("malformed", "truncated", valid[:-1], "a valid envelope less its last byte")
    add("malformed", "envelope-array-3", enc([p, sig, b""]),
        "the envelope an array of 3 (payload, signature, empty bin)")
    add("malformed", "signature-63-bytes", enc([p, sig[:63]]), "a signature of 63 bytes")
    add("malformed", "signature-str", enc([p, str_raw(sig)]), "the signature as a str")
    add("malformed", "payload-str", enc([str_raw(p), sig]), "the payload as a str")
    f = payload_fields(sorted_body(ORG))
    add("malformed", "payload-7-fields", envelope(enc(f[:7])), "the payload without its body")
    add("malformed", "payload-9-fields", envelope(enc(f + [0])), "the payload with a 9th field")
    add("malformed", "format-2", envelope(enc([2] + f[1:])), "format 2")
    add("malformed", "origin-31-bytes", envelope(enc([1, ORIGIN[:31]] + f[2:])),
        "an origin of 31 bytes")
    add("malformed", "id-empty", entry(ORG, id=""), "an empty id")
    add("malformed", "id-65-chars", entry(ORG, id="a" * 65), "an id of 65 characters")
    add("malformed", "id-space", entry(ORG, id="glanz werk"), "an id holding a space")
    add("malformed", "id-non-ascii", entry(ORG, id="caf\u00e9"),
        "an id holding a non-ASCII letter (e9 as UTF-8 c3 a9)")
    add("malformed", "kind-unknown", entry(ORG, kind="company"), "kind 'company'")
    add("malformed", "seq-0", entry(ORG, seq=0), "seq 0")
    add("malformed", "seq-2p53", entry(ORG, seq=2**53), "seq 2^53")
    add("malformed", "seq-2p63-1", entry(ORG, seq=2**63 - 1), "seq 2^63-1")
    add("malformed", "seq-2p64-1", entry(ORG, seq=2**64 - 1), "seq 2^64-1")
    add("malformed", "ts-2p53", entry(ORG, ts=2**53), "ts 2^53")
    add("malformed", "deleted-int", entry(ORG, deleted=0), "deleted written as the integer 0")
    add("malformed", "body-array", entry([], deleted=True),
        "the body an (empty) array, in a tombstone")

    # -- malformed: what a body may hold --
    add("malformed", "key-integer",
        entry(Pairs([(1, "x"), ("country", "AT"), ("name", {"en": "Glanzwerk"})])),
        "an integer map key")
    add("malformed", "key-duplicate",
        entry(Pairs([("country", "AT"), ("country", "AT"), ("name", {"en": "Glanzwerk"})])),
        "the key 'country' twice")
    add("malformed", "key-nul", entry(with_fields(ORG, **{"x\x00y": 1})),
        "a key holding a NUL byte")
    add("malformed", "key-256-bytes", entry(with_fields(ORG, **{"k" * (KEY_MAX + 1): 1})),
        "an unknown field whose name is 256 bytes")
    add("malformed", "value-bin", entry(with_fields(ORG, x_bin=b"\x00\x01")),
        "a bin value in an unknown field")
    add("malformed", "value-ext", entry(with_fields(ORG, x_ext=msgpack.ExtType(1, b"\x00"))),
        "an ext value (fixext1) in an unknown field")
    add("malformed", "value-float32",
        entry(with_fields(ORG, x_float=Raw(b"\xca" + struct.pack(">f", 1.5)))),
        "a float32 value (ca): floats are written as float64")
    add("malformed", "value-nan", entry(with_fields(ORG, x_float=float("nan"))),
        "a float64 NaN")
    add("malformed", "value-infinity", entry(with_fields(ORG, x_float=float("inf"))),
        "a float64 +Infinity")
    add("malformed", "value-negative-infinity", entry(with_fields(ORG, x_float=float("-inf"))),
        "a float64 -Infinity")
    add("malformed", "value-uint64-2p63", entry(with_fields(ORG, x_int=2**63)),
        "the integer 2^63 (above the signed 64-bit range)")
    add("malformed", "value-not-utf8", entry(with_fields(ORG, x_str=str_raw(b"a\xff\xfe"))),
        "a str value that is not UTF-8")
    add("malformed", "depth-31", entry(with_fields(ORG, deep=nested_arrays(DEPTH_MAX))),
        "body nesting 31 levels: the body map, then 30 nested arrays")
    add("malformed", "payload-49153", envelope(padded_payload(PAYLOAD_MAX + 1)),
        "a payload of 49153 bytes")

    # -- malformed: not the canonical (smallest) form --
    add("malformed", "noncanonical-uint8", entry(with_fields(ORG, x_int=Raw(b"\xcc\x05"))),
        "5 written as uint8 (cc 05)")
    add("malformed", "noncanonical-int8", entry(with_fields(ORG, x_int=Raw(b"\xd0\x05"))),
        "5 written as int8 (d0 05)")
    add("malformed", "noncanonical-negative-int8",
        entry(with_fields(ORG, x_int=Raw(b"\xd0\xff"))), "-1 written as int8 (d0 ff)")
    add("malformed", "noncanonical-uint32",
        entry(with_fields(ORG, x_int=Raw(b"\xce" + struct.pack(">I", 300)))),
        "300 written as uint32 (ce 00 00 01 2c)")
    add("malformed", "noncanonical-str8", entry(with_fields(ORG, x_str=Raw(b"\xd9\x03abc"))),
        "a 3-byte string with a str8 header (d9 03)")
    add("malformed", "noncanonical-signature-bin16",
        _packer.pack_array_header(2) + mp(p) + b"\xc5\x00\x40" + sig,
        "the signature with a bin16 header (c5 00 40)")
    b = sorted_body(ORG)
    body16 = Raw(b"\xde\x00\x02" + b"".join(enc(k) + enc(v) for k, v in b.items()))
    add("malformed", "noncanonical-body-map16", entry(body16),
        "the body map with a map16 header (de 00 02)")
    add("malformed", "noncanonical-envelope-array16", b"\xdc\x00\x02" + mp(p) + mp(sig),
        "the envelope array with an array16 header (dc 00 02)")
    add("malformed", "noncanonical-seq-uint64", entry(ORG, seq=Raw(b"\xcf" + struct.pack(">Q", 7))),
        "seq 7 written as uint64 (cf 00 .. 07)")

    # -- signature --
    add("signature", "signature-other-key", envelope(p, sign(p, OTHER_KEY)),
        "origin is the origin key, signed by the other key")
    add("signature", "signature-no-domain", envelope(p, sign(p, domain=False)),
        "signed over the 32-byte vid without the domain prefix")
    flipped = bytearray(sig)
    flipped[0] ^= 0x01
    add("signature", "signature-bit-flipped", envelope(p, bytes(flipped)),
        "the lowest bit of the signature's first byte flipped")
    assert p.count(b"Glanzwerk") == 1
    add("signature", "signature-body-changed", envelope(p.replace(b"Glanzwerk", b"Glanzwerx"), sig),
        "name.en changed from Glanzwerk to Glanzwerx after signing (still valid)")

    # -- invalid --
    add("invalid", "tombstone-with-body", entry(ORG, deleted=True),
        "a tombstone whose body is not empty")
    add("invalid", "organisation-without-name", entry({"country": "AT"}), "no name")
    add("invalid", "organisation-without-country", entry({"name": {"en": "Glanzwerk"}}),
        "no country (required for organisations)")
    add("invalid", "name-key-english", entry(with_fields(ORG, name={"english": "Glanzwerk"})),
        "name's language key 'english', not an ISO 639-1 code")
    add("invalid", "country-austria", entry(with_fields(ORG, country="Austria")),
        "country 'Austria', not an ISO 3166-1 alpha-2 code")
    add("invalid", "region-outside-country", entry(with_fields(ORG, region="SI032")),
        "region SI032 (a NUTS code of Slovenia) with country AT")
    add("invalid", "country-el", entry(with_fields(ORG, country="EL", region="EL30")),
        "country EL: the NUTS prefix of Greece, not an ISO 3166-1 code (GR is)")
    add("invalid", "country-uk", entry(with_fields(ORG, country="UK")),
        "country UK: the NUTS prefix of the United Kingdom, not an ISO 3166-1 code (GB is)")
    add("accept", "country-xk", entry(with_fields(ORG, country="XK")),
        "country XK: Kosovo, not in ISO 3166-1 but the code the EU uses, accepted")
    add("invalid", "country-unlisted", entry(with_fields(ORG, country="QQ")),
        "country QQ: two capitals, not in ISO 3166-1 (user-assigned, and not XK)")
    add("invalid", "region-greece-gr", entry(with_fields(ORG, country="GR", region="GR30")),
        "country GR with region GR30: Greek NUTS codes start with EL")
    add("invalid", "language-unlisted", entry(with_fields(ORG, languages=["xx"])),
        "languages ['xx']: two letters, not in ISO 639-1")
    add("invalid", "name-escape", entry(with_fields(ORG, name={"en": "Glanz\x1b[31mwerk"})),
        "name.en holding ESC (U+001B), a C0 control character")
    add("invalid", "name-del", entry(with_fields(ORG, name={"en": "Glanz\x7fwerk"})),
        "name.en holding DEL (U+007F)")
    add("invalid", "name-c1", entry(with_fields(ORG, name={"en": "Glanz\u009bwerk"})),
        "name.en holding U+009B (CSI), a C1 control character")
    add("invalid", "name-bidi-override", entry(with_fields(ORG, name={"en": "Glanz\u202ewerk"})),
        "name.en holding U+202E (right-to-left override)")
    add("invalid", "name-newline", entry(with_fields(ORG, name={"en": "Glanz\nwerk"})),
        "name.en holding a newline (allowed in description, outcome, eligibility only)")
    add("invalid", "tag-nul", entry(with_fields(ORG, tags=["a\x00b"])),
        "a tag holding U+0000")
    add("invalid", "event-start-feb-29-2027",
        entry(with_fields(EVENT, start="2027-02-29"), kind="event", id="fair"),
        "an event starting 2027-02-29 (2027 is no leap year)")
    add("invalid", "event-end-before-start",
        entry(with_fields(EVENT, start="2027-03-10", end="2027-03-09"), kind="event", id="fair"),
        "an event ending 2027-03-09, the day before its start")
    add("invalid", "cpv-short", entry(with_fields(ORG, cpv=["9091"])),
        "cpv ['9091'], not 8 digits")
    add("invalid", "event-start-month-13",
        entry(with_fields(EVENT, start="2027-13-01"), kind="event", id="fair"),
        "an event starting 2027-13-01")
    add("invalid", "ts-future-601", entry(ORG, ts=NOW + FUTURE_MS + 1),
        "ts = now + 600001: 1 ms too far ahead")
    add("invalid", "text-8193-bytes", entry(with_fields(ORG, name={"en": "t" * (TEXT_MAX + 1)})),
        "name.en of 8193 bytes")
    add("invalid", "field-not-allowed-for-kind", entry(with_fields(ORG, offer_type="service")),
        "offer_type on an organisation: a known field of another kind")
    add("invalid", "offer-without-organisation",
        entry({"name": {"en": "Office cleaning"}, "offer_type": "service"}, kind="offer",
              id="cleaning"), "an offer without its organisation")
    return cases


# ---- frames ----

def frame_cases():
    cases = []

    def add(verdict, name, data, what):
        cases.append((verdict, name, bytes(data), what))

    env = entry(ORG)
    vsum = vid_of(payload(sorted_body(ORG)))
    mark = [ORIGIN, 5, 7, 6, vsum]

    add("accept", "hello", enc(["HELLO", 1, 1, "x"]), "HELLO vmin 1, vmax 1, name 'x'")
    add("accept", "hello-name-127", enc(["HELLO", 1, 1, "n" * (NAME_MAX - 1)]),
        "HELLO with a name of 127 bytes")
    add("accept", "sync", enc(["SYNC", 1, 8, [[ORIGIN, 5]]]),
        "SYNC req 1, credit 8, one mark [origin, complete 5]")
    add("accept", "sync-no-marks", enc(["SYNC", 1, 8, []]), "SYNC with no marks")
    add("accept", "entries", enc(["ENTRIES", 1, [env]]),
        "ENTRIES req 1 with the envelope organisation-minimal")
    add("accept", "entries-512", enc(["ENTRIES", 1, [b"\x00"] * BATCH_MAX]),
        "ENTRIES with 512 envelopes (1-byte bins: frames do not open envelopes)")
    add("accept", "entries-envelope-50176", enc(["ENTRIES", 1, [b"e" * ENV_MAX]]),
        "ENTRIES with an envelope (bin) of 50176 bytes")
    add("accept", "credit", enc(["CREDIT", 1, 4]), "CREDIT req 1, n 4")
    add("accept", "sync-end", enc(["SYNC_END", 1, [mark]]),
        "SYNC_END req 1, one mark [origin, complete 5, max_seq 7, count 6, vsum]")
    add("accept", "sync-end-max-seq-max", enc(["SYNC_END", 1, [[ORIGIN, 5, SEQ_MAX, 6, vsum]]]),
        "SYNC_END with max_seq 2^53-1")
    add("accept", "push", enc(["PUSH", [env]]), "PUSH with the envelope organisation-minimal")
    add("accept", "repair", enc(["REPAIR", 2, 8, ORIGIN, 10, [[0, 3, vsum], [2, 1, vsum]]]),
        "REPAIR req 2, credit 8, origin, shift 10, buckets 0 and 2")
    add("accept", "repair-bucket-max",
        enc(["REPAIR", 2, 8, ORIGIN, 10, [[SEQ_MAX >> 10, 1, vsum]]]),
        "REPAIR shift 10, bucket (2^53-1) >> 10, the highest")
    add("accept", "repair-shift-63", enc(["REPAIR", 2, 8, ORIGIN, 63, [[0, 6, vsum]]]),
        "REPAIR shift 63 (the highest), bucket 0")

    add("malformed", "name-unknown", enc(["HELO", 1, 1, "x"]), "an unknown message name")
    add("malformed", "name-bin", enc([b"HELLO", 1, 1, "x"]), "the name as a bin")
    add("malformed", "not-array", enc("HELLO"), "a str, not an array")
    add("malformed", "empty-array", enc([]), "an empty array")
    add("malformed", "trailing-byte", enc(["HELLO", 1, 1, "x"]) + b"\x00",
        "a valid HELLO and one byte more")
    add("malformed", "hello-name-128", enc(["HELLO", 1, 1, "n" * NAME_MAX]),
        "HELLO with a name of 128 bytes")
    add("malformed", "hello-name-nul", enc(["HELLO", 1, 1, "a\x00b"]),
        "HELLO with a name holding a NUL byte")
    add("malformed", "hello-vmin-above-vmax", enc(["HELLO", 2, 1, "x"]), "HELLO vmin 2, vmax 1")
    add("malformed", "sync-3-fields", enc(["SYNC", 1, 8]),
        "SYNC as an array of 3 (name, req, credit): no marks")
    add("malformed", "sync-origin-31-bytes", enc(["SYNC", 1, 8, [[ORIGIN[:31], 5]]]),
        "a SYNC mark whose origin is 31 bytes")
    add("malformed", "sync-complete-2p53", enc(["SYNC", 1, 8, [[ORIGIN, 2**53]]]),
        "a SYNC mark with complete 2^53")
    add("malformed", "sync-end-mark-4-fields", enc(["SYNC_END", 1, [mark[:4]]]),
        "a SYNC_END mark of 4 fields (no vsum)")
    add("malformed", "sync-end-max-seq-2p53", enc(["SYNC_END", 1, [[ORIGIN, 5, 2**53, 6, vsum]]]),
        "a SYNC_END mark with max_seq 2^53")
    add("malformed", "entries-513", enc(["ENTRIES", 1, [b"\x00"] * (BATCH_MAX + 1)]),
        "ENTRIES with 513 envelopes")
    add("malformed", "entries-empty-bin", enc(["ENTRIES", 1, [b""]]),
        "ENTRIES with an empty bin as envelope")
    add("malformed", "entries-envelope-50177", enc(["ENTRIES", 1, [b"e" * (ENV_MAX + 1)]]),
        "ENTRIES with an envelope of 50177 bytes")
    add("malformed", "push-3-fields", enc(["PUSH", 1, [env]]),
        "PUSH as an array of 3 (name, a req, envelopes)")
    add("malformed", "credit-str", enc(["CREDIT", 1, "4"]), "CREDIT with n as a str")
    add("malformed", "repair-shift-64", enc(["REPAIR", 2, 8, ORIGIN, 64, [[0, 3, vsum]]]),
        "REPAIR shift 64")
    add("malformed", "repair-buckets-descending",
        enc(["REPAIR", 2, 8, ORIGIN, 10, [[2, 1, vsum], [0, 3, vsum]]]),
        "REPAIR buckets 2 then 0")
    add("malformed", "repair-buckets-equal",
        enc(["REPAIR", 2, 8, ORIGIN, 10, [[2, 1, vsum], [2, 3, vsum]]]),
        "REPAIR bucket 2 twice")
    add("malformed", "repair-bucket-above-max",
        enc(["REPAIR", 2, 8, ORIGIN, 10, [[(SEQ_MAX >> 10) + 1, 1, vsum]]]),
        "REPAIR shift 10, bucket ((2^53-1) >> 10) + 1")
    add("malformed", "repair-count-2p53", enc(["REPAIR", 2, 8, ORIGIN, 10, [[0, 2**53, vsum]]]),
        "REPAIR with a bucket count of 2^53")
    return cases


# ---- output ----

def render(title, verdicts, cases):
    names = [c[1] for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    for v, n, _, _ in cases:
        assert v in verdicts and n.replace("-", "").isalnum() and n == n.lower(), (v, n)
    counts = ", ".join("%d %s" % (sum(1 for c in cases if c[0] == v), v) for v in verdicts)
    lines = [
        "# socdir test vectors: %s. Generated by tests/vectors/gen.py; do not edit." % title,
        "# Format and cases: tests/vectors/README.md. Each case line: VERDICT<TAB>NAME<TAB>HEX.",
        "# now = %d ms. origin key: seed 01..20, public %s." % (NOW, ORIGIN.hex()),
        "# other key: seed 41..60, public %s." % OTHER.hex(),
        "# %d cases: %s." % (len(cases), counts),
    ]
    for verdict, name, data, what in cases:
        lines.append("# %s: %s (%d bytes)" % (name, what, len(data)))
        lines.append("%s\t%s\t%s" % (verdict, name, data.hex()))
    return ("\n".join(lines) + "\n").encode("utf-8")


def outputs():
    return {
        "envelopes.txt": render("envelopes", ["accept", "malformed", "signature", "invalid"],
                                envelope_cases()),
        "frames.txt": render("peer frames", ["accept", "malformed"], frame_cases()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory; exit 1 if a file differs")
    ap.add_argument("--dir", default=HERE, help="where the files are (default: beside gen.py)")
    args = ap.parse_args()
    bad = 0
    for name, data in outputs().items():
        path = os.path.join(args.dir, name)
        if args.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                print("gen.py: %s differs from what gen.py makes" % path, file=sys.stderr)
                bad = 1
        else:
            with open(path, "wb") as f:
                f.write(data)
    if args.check and not bad:
        print("gen.py: envelopes.txt and frames.txt are up to date")
    return bad


if __name__ == "__main__":
    sys.exit(main())
