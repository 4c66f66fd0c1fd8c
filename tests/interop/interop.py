#!/usr/bin/python3
"""interop.py: our codec against Apache Thrift's stock Python library, both directions.

  interop.py --idl IDL --build-dir DIR write OUT   Python encodes every named case into OUT
  interop.py --idl IDL --build-dir DIR check IN    Python decodes what C wrote for each case
  interop.py --idl IDL --build-dir DIR roundtrip ECHO [--seed N] [--count N]
        random values of every method's args and result, TApplicationException and KvCommand,
        framed and unframed, go through ECHO (interop_echo); what comes back must be the
        same bytes and decode to the same values.

The named cases mirror test_interop_codec.c, which builds the same values in C.
"""
import argparse
import os
import random
import subprocess
import sys

sys.dont_write_bytecode = True  # never leave __pycache__ in the source tree
import kvgen  # noqa: E402

T = None  # ttypes of the stock generated code
S = None  # TransactionalKV module


def thrift_lib():
    from thrift.Thrift import TApplicationException, TMessageType, TType
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TTransport
    return TApplicationException, TMessageType, TType, TBinaryProtocol, TTransport


# ---------------------------------------------------------------- named cases

def named_cases():
    """(name, kind, method, seqid, value); kind is call, reply, exception or struct."""
    TAppEx, _, _, _, _ = thrift_lib()
    EC, OT, NR = T.ErrorCode, T.OperationType, T.NodeRole

    def call(name, method, seqid, request):
        return (name, "call", method, seqid, getattr(S, method + "_args")(request=request))

    def reply(name, method, seqid, **result):
        return (name, "reply", method, seqid, getattr(S, method + "_result")(**result))

    return [
        call("ping_call", "ping", 1, T.PingRequest(message="hello, thrift")),
        call("ping_call_unset", "ping", 0, T.PingRequest()),
        reply("ping_reply", "ping", 1, success=T.PingResponse(
            message="pong \u00e9\u4e16", timestamp_us=1700000000123456, node_id="n1")),
        call("get_call_unset_optionals", "get", 2,
             T.GetRequest(key=b"\x00key\xff", consistency=None)),
        call("get_call_serializable", "get", 3,
             T.GetRequest(key=b"\xff", consistency=T.Consistency.SERIALIZABLE)),
        reply("get_reply_found", "get", 2, success=T.GetResponse(
            found=True, value=b"\x00\x01\xfe\xff", success=True, version=42)),
        reply("get_reply_not_leader", "get", 3, success=T.GetResponse(
            found=False, success=False, error="not the leader", error_code=EC.NOT_LEADER,
            leader_hint="127.0.0.1:7001")),
        call("set_call", "setKey", 2147483647, T.SetRequest(key=b"\x00\x00", value=b"")),
        reply("set_reply", "setKey", -1, success=T.SetResponse(
            success=True, version=9223372036854775807)),
        reply("delete_reply", "deleteKey", 5, success=T.DeleteResponse(
            success=True, version=-9223372036854775808, found=False)),
        call("getrange_call", "getRange", 6, T.GetRangeRequest(
            begin_key=b"", end_key=b"\xff\xff", limit=100, reverse=True, consistency=None)),
        reply("getrange_reply", "getRange", 6, success=T.GetRangeResponse(
            key_values=[T.KeyValue(key=b"\x00", value=b"zero"),
                        T.KeyValue(key=b"a\x00b", value=b"\xff\xff\xff"),
                        T.KeyValue(key=b"\xff", value=b"")],
            has_more=True, success=True, version=7)),
        reply("getrange_reply_empty", "snapshotGetRange", 7, success=T.GetRangeResponse(
            key_values=[], has_more=False, success=True)),
        call("atomic_commit_call", "atomicCommit", 8, T.AtomicCommitRequest(
            read_version=99,
            operations=[T.Operation(type=OT.SET, key=b"k\x00", value=b"v\xff"),
                        T.Operation(type=OT.DELETE, key=b"gone"),
                        T.Operation(type=OT.CLEAR_RANGE, key=b"a", end_key=b"b\xff")],
            read_conflict_keys=[b"\x00", b"\xff", b""],
            read_conflict_ranges=[T.KeyRange(begin_key=b"a", end_key=b"b"),
                                  T.KeyRange(begin_key=b"\xff")])),
        reply("atomic_commit_reply_conflict", "atomicCommit", 8,
              success=T.AtomicCommitResponse(success=False, error="conflict on k",
                                             error_code=EC.CONFLICT)),
        reply("cluster_health_reply", "getClusterHealth", 9, success=T.ClusterHealth(
            healthy=True, leader_id="n2", term=3,
            nodes=[T.NodeStatus(node_id="n1", endpoint="127.0.0.1:7001", role=NR.FOLLOWER,
                                term=3, commit_index=10, applied_index=10, last_log_index=11,
                                match_index=11, last_contact_ms=5, reachable=True),
                   T.NodeStatus(node_id="n2", endpoint="127.0.0.1:7002", role=NR.LEADER,
                                term=3, commit_index=10, applied_index=10, last_log_index=11,
                                state_digest="ab01", reachable=True)],
            success=True)),
        call("append_entry_call", "appendEntry", 10, T.AppendEntryRequest(
            leader_id="n2",
            entry=T.ConsensusLogEntry(index=5, term=2, data=b"\x0c\x00\x01",
                                      timestamp=1700000000000000),
            prev_log_index=4, prev_log_term=2, leader_term=2,
            entries=[T.ConsensusLogEntry(index=6, term=2, data=b"", timestamp=1),
                     T.ConsensusLogEntry(index=7, term=2, data=b"\xff\x00", timestamp=2)],
            leader_commit=4)),
        reply("append_entry_peer_error", "appendEntry", 11, error=T.PeerError(
            code=EC.UNAUTHORIZED, message="peer not authenticated")),
        reply("request_vote_reply", "requestVote", 12, success=T.RequestVoteResponse(
            node_id="n3", term=4, vote_granted=True, pre_vote=True)),
        call("install_snapshot_call", "installSnapshot", 13, T.InstallSnapshotRequest(
            leader_id="n1", leader_term=5, last_included_index=100, last_included_term=4,
            offset=0, data=bytes(range(256)), done=True, total_size=256,
            crc32c=-123456789)),
        ("app_exception_unknown_method", "exception", "frobnicate", 14,
         TAppEx(TAppEx.UNKNOWN_METHOD, "Unknown function frobnicate")),
        ("app_exception_internal", "exception", "setKey", 15,
         TAppEx(TAppEx.INTERNAL_ERROR, "internal error")),
        ("kvcommand_set", "struct", None, 0,
         T.KvCommand(set_key=T.SetRequest(key=b"\x00", value=b"\xff"))),
        ("kvcommand_atomic", "struct", None, 0, T.KvCommand(atomic_commit=T.AtomicCommitRequest(
            read_version=1, operations=[T.Operation(type=OT.SET, key=b"k", value=b"v")]))),
        ("kvcommand_noop", "struct", None, 0, T.KvCommand(noop=T.NoopCommand())),
        ("kvcommand_clear_range", "struct", None, 0, T.KvCommand(
            clear_range=T.ClearRangeCommand(begin_key=b"", end_key=b"\xff"))),
    ]


MESSAGE_TYPE = {"call": 1, "reply": 2, "exception": 3}


# ---------------------------------------------------------------- encode, decode

def encode(kind, method, seqid, value, framed=False, strict=True, accelerated=False):
    _, _, _, TBinaryProtocol, TTransport = thrift_lib()
    mem = TTransport.TMemoryBuffer()
    trans = TTransport.TFramedTransport(mem) if framed else mem
    if accelerated:
        prot = TBinaryProtocol.TBinaryProtocolAccelerated(trans, strictWrite=strict)
    else:
        prot = TBinaryProtocol.TBinaryProtocol(trans, strictWrite=strict)
    if kind != "struct":
        prot.writeMessageBegin(method, MESSAGE_TYPE[kind], seqid)
    value.write(prot)
    if kind != "struct":
        prot.writeMessageEnd()
    trans.flush()
    return mem.getvalue()


def value_class(kind, method):
    TAppEx = thrift_lib()[0]
    if kind == "call":
        return getattr(S, method + "_args")
    if kind == "reply":
        return getattr(S, method + "_result")
    if kind == "exception":
        return TAppEx
    return T.KvCommand


class DecodeError(Exception):
    pass


def decode_one(prot, kind, accelerated_ok=True):
    """Reads one message (or struct) of the expected kind: (method, seqid, value)."""
    method, seqid = None, 0
    if kind != "struct":
        method, mtype, seqid = prot.readMessageBegin()
        if mtype != MESSAGE_TYPE[kind]:
            raise DecodeError("message type %d, expected %s" % (mtype, kind))
        if kind in ("call", "reply") and not hasattr(S, method + "_args"):
            raise DecodeError("unknown method %r" % method)
    value = value_class(kind, method)()
    value.read(prot)
    if kind != "struct":
        prot.readMessageEnd()
    return method, seqid, value


def decode(data, kind, framed=False, accelerated=False):
    """Decodes exactly one message filling data: (method, seqid, value)."""
    _, _, _, TBinaryProtocol, TTransport = thrift_lib()
    if framed:
        if len(data) < 4 or int.from_bytes(data[:4], "big") != len(data) - 4:
            raise DecodeError("frame length %r does not match %d bytes" % (data[:4], len(data)))
        data = data[4:]
    mem = TTransport.TMemoryBuffer(data)
    cls = TBinaryProtocol.TBinaryProtocolAccelerated if accelerated else \
        TBinaryProtocol.TBinaryProtocol
    result = decode_one(cls(mem), kind)
    left = len(data) - mem._buffer.tell()
    if left != 0:
        raise DecodeError("%d bytes left after the message" % left)
    return result


def same(kind, a, b):
    """Value equality; TApplicationException has no __eq__ of its own."""
    if kind == "exception":
        return (a.type, a.message) == (b.type, b.message)
    return a == b


# ---------------------------------------------------------------- write, check

def cmd_write(out_dir):
    cases = named_cases()
    with open(os.path.join(out_dir, "cases.txt"), "w") as f:
        for name, kind, _, _, _ in cases:
            f.write("%s %s\n" % (name, kind))
    for name, kind, method, seqid, value in cases:
        forms = {"py.bin": dict()}
        if kind != "struct":
            forms["py.framed.bin"] = dict(framed=True)
            forms["py.legacy.bin"] = dict(strict=False)
        for suffix, kw in forms.items():
            data = encode(kind, method, seqid, value, **kw)
            # Python's C extension must agree with its pure encoder, or the reference itself
            # is in doubt.
            if encode(kind, method, seqid, value, accelerated=True, **kw) != data:
                print("interop: %s: python's two encoders disagree" % name, file=sys.stderr)
                return 1
            with open(os.path.join(out_dir, "%s.%s" % (name, suffix)), "wb") as f:
                f.write(data)
    return 0


def cmd_check(in_dir):
    failures = 0
    for name, kind, method, seqid, value in named_cases():
        forms = [("c.bin", False)] + ([("c.framed.bin", True)] if kind != "struct" else [])
        for suffix, framed in forms:
            path = os.path.join(in_dir, "%s.%s" % (name, suffix))
            try:
                with open(path, "rb") as f:
                    data = f.read()
                expected_bytes = encode(kind, method, seqid, value, framed=framed)
                # What Python itself reads back from its own encoding: unset optionals that
                # have IDL defaults come back as the default, on both sides.
                expected = decode(expected_bytes, kind, framed)
                for accelerated in (False, True):
                    got = decode(data, kind, framed, accelerated)
                    if got[:2] != expected[:2] or not same(kind, got[2], expected[2]):
                        raise DecodeError("decoded %r\n  expected %r" % (got, expected))
                if data != expected_bytes:
                    raise DecodeError("bytes differ:\n  C:      %s\n  Python: %s"
                                      % (data.hex(), expected_bytes.hex()))
            except Exception as e:  # any failure of one case is reported, then the next
                print("interop: %s (%s): %s: %s" % (name, suffix, type(e).__name__, e),
                      file=sys.stderr)
                failures += 1
    return 1 if failures else 0


# ---------------------------------------------------------------- random round trip

class Gen:
    """Random values of the stock generated classes, driven by their thrift_spec."""

    UNIONS = ("KvCommand",)
    INT_EDGES = {3: (-128, 127), 6: (-32768, 32767), 8: (-2**31, 2**31 - 1),
                 10: (-2**63, 2**63 - 1)}

    def __init__(self, rng, TType):
        self.rng = rng
        self.TType = TType
        self.required_cache = {}

    def required(self, cls):
        """Field names validate() insists on: the IDL's required fields."""
        if cls not in self.required_cache:
            names = [spec[2] for spec in cls.thrift_spec if spec is not None]
            req = set()
            for n in names:
                # Exceptions are immutable in the stock code: build, never assign.
                obj = cls(**{other: (None if other == n else 0) for other in names})
                try:
                    obj.validate()
                except Exception:
                    req.add(n)
            self.required_cache[cls] = req
        return self.required_cache[cls]

    def binary(self):
        r = self.rng
        n = r.choice((0, 1, 2, 5, 16, r.randrange(0, 300)))
        alphabet = (0, 0xff, 0x7f, 0x80, 0x01)
        return bytes(r.choice(alphabet) if r.random() < 0.4 else r.randrange(256)
                     for _ in range(n))

    def string(self):
        r = self.rng
        pool = "abcXYZ019 _-:.\u00e9\u00ff\u4e16\U0001f600\x00\n"
        return "".join(r.choice(pool) for _ in range(r.choice((0, 1, 4, r.randrange(40)))))

    def integer(self, ttype):
        lo, hi = self.INT_EDGES[ttype]
        r = self.rng
        return r.choice((0, 1, -1, lo, hi, r.randint(-1000, 1000), r.randint(lo, hi)))

    def value(self, ttype, targs, depth):
        TT, r = self.TType, self.rng
        if ttype == TT.BOOL:
            return r.random() < 0.5
        if ttype in self.INT_EDGES:
            return self.integer(ttype)
        if ttype == TT.DOUBLE:
            return r.choice((0.0, -1.5, 1e300, r.random()))
        if ttype == TT.STRING:
            return self.binary() if targs == "BINARY" else self.string()
        if ttype == TT.STRUCT:
            return self.struct(targs[0], depth + 1)
        if ttype == TT.LIST:
            elem_type, elem_args = targs[0], targs[1]
            n = 0 if depth > 4 else r.choice((0, 1, 2, 3, r.randrange(8)))
            return [self.value(elem_type, elem_args, depth + 1) for _ in range(n)]
        raise AssertionError("type %d is not in kvstore.thrift" % ttype)

    def struct(self, cls, depth=0, only=None):
        specs = [s for s in cls.thrift_spec if s is not None]
        name = cls.__name__
        if only is not None:
            chosen = {only}
        elif name in self.UNIONS or name.endswith("_result"):
            chosen = {self.rng.choice(specs)[2]}  # exactly one member
        elif name.endswith("_args"):
            chosen = {s[2] for s in specs}  # default requiredness: always written
        else:
            req = self.required(cls)
            chosen = {s[2] for s in specs if s[2] in req or self.rng.random() < 0.6}
        return cls(**{fname: self.value(ttype, targs, depth) if fname in chosen else None
                      for _fid, ttype, fname, targs, _default in specs})


def random_messages(gen, count):
    """(kind, method, seqid, value, strict) for random calls, replies and exceptions."""
    TAppEx = thrift_lib()[0]
    methods = [m for m in dir(S) if m.endswith("_args")]
    out = []
    for _ in range(count):
        method = gen.rng.choice(methods)[:-len("_args")]
        seqid = gen.integer(gen.TType.I32)
        strict = gen.rng.random() < 0.85
        roll = gen.rng.random()
        if roll < 0.45:
            out.append(("call", method, seqid, gen.struct(getattr(S, method + "_args")), strict))
        elif roll < 0.9:
            out.append(("reply", method, seqid, gen.struct(getattr(S, method + "_result")),
                        strict))
        else:
            text = gen.string().replace("\x00", "")  # our writer takes a C string
            out.append(("exception", method, seqid, TAppEx(gen.rng.randrange(11), text), strict))
    return out


def run_echo(echo, mode, data):
    proc = subprocess.run([echo, mode], input=data, capture_output=True)
    if proc.returncode != 0:
        raise DecodeError("%s %s exited %d: %s" % (echo, mode, proc.returncode,
                                                   proc.stderr.decode(errors="replace")))
    return proc.stdout


def compare_stream(mode, items, sent, expected, got):
    """items[i] was sent as sent[i] and must come back as expected[i]; got is everything."""
    if got == b"".join(expected):
        return None
    at = 0
    for i, want in enumerate(expected):
        if got[at:at + len(want)] != want:
            kind, method, seqid, value, strict = items[i]
            return ("%s item %d (%s %s seqid %d, %s header) differs\n  value: %r\n"
                    "  sent:     %s\n  expected: %s\n  got:      %s"
                    % (mode, i, kind, method, seqid, "strict" if strict else "legacy", value,
                       sent[i].hex(), want.hex(), got[at:at + len(want) + 16].hex()))
        at += len(want)
    return "%s: %d extra bytes at the end" % (mode, len(got) - at)


def roundtrip_mode(echo, mode, items):
    framed = mode == "framed"
    sent, expected = [], []
    for kind, method, seqid, value, strict in items:
        sent.append(encode(kind, method, seqid, value, framed=framed, strict=strict))
        # We always answer with a strict header; otherwise the same bytes.
        expected.append(encode(kind, method, seqid, value, framed=framed))
    got = run_echo(echo, mode, b"".join(sent))
    problem = compare_stream(mode, items, sent, expected, got)
    if problem:
        raise DecodeError(problem)
    stats = (len(items), len(got))
    # Python reads our whole stream back, item by item, to the values it sent.
    _, _, _, TBinaryProtocol, TTransport = thrift_lib()
    at = 0
    for (kind, method, seqid, value, _), want in zip(items, expected):
        chunk = got[at:at + len(want)]
        at += len(want)
        got_method, got_seqid, got_value = decode(chunk, kind, framed, accelerated=True)
        _, _, ref = decode(want, kind, framed)
        if (got_method, got_seqid) != (method, seqid) or not same(kind, got_value, ref):
            raise DecodeError("%s: decoded %r, expected %r" % (mode, got_value, ref))
    return stats


def cmd_roundtrip(echo, seed, count):
    TType = thrift_lib()[2]
    rng = random.Random(seed)
    gen = Gen(rng, TType)
    report = []
    try:
        for mode in ("unframed", "framed"):
            report.append((mode,) + roundtrip_mode(echo, mode, random_messages(gen, count)))
        commands = []
        for i in range(count):
            specs = [s for s in T.KvCommand.thrift_spec if s is not None]
            only = specs[i % len(specs)][2]  # every member, in turn
            commands.append(("struct", None, 0, gen.struct(T.KvCommand, only=only), True))
        report.append(("kvcommand",) + roundtrip_mode(echo, "kvcommand", commands))
    except DecodeError as e:
        print("interop roundtrip FAILED (seed %d; rerun with TEST_SEED=%d): %s"
              % (seed, seed, e), file=sys.stderr)
        return 1
    print("interop roundtrip: seed %d: %s: all equal" % (
        seed, ", ".join("%s %d items %d bytes" % r for r in report)))
    return 0


def main():
    global T, S
    p = argparse.ArgumentParser()
    p.add_argument("--idl", required=True)
    p.add_argument("--build-dir", required=True)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("write").add_argument("dir")
    sub.add_parser("check").add_argument("dir")
    rt = sub.add_parser("roundtrip")
    rt.add_argument("echo")
    rt.add_argument("--seed", type=int, default=None)
    rt.add_argument("--count", type=int, default=300)
    args = p.parse_args()
    T, S = kvgen.load(args.idl, args.build_dir)
    if args.cmd == "write":
        return cmd_write(args.dir)
    if args.cmd == "check":
        return cmd_check(args.dir)
    seed = args.seed
    if seed is None:
        env = os.environ.get("TEST_SEED")
        seed = int(env) if env else random.SystemRandom().randrange(2**31)
    return cmd_roundtrip(args.echo, seed, args.count)


if __name__ == "__main__":
    sys.exit(main())
