#!/usr/bin/python3
"""gRPC unary calls with a real client (grpcio, Debian's python3-grpcio) for the
integration tests. Messages are raw bytes (no protobuf schema): gantry-echo's h2c port
sends them back. Prints one JSON object per call: the status code name, the details,
the response and the metadata."""
import argparse
import json

import grpc

p = argparse.ArgumentParser()
p.add_argument("target")  # host:port
p.add_argument("method")  # /package.Service/Method
p.add_argument("--authority")
p.add_argument("--message", default="hello")
p.add_argument("--metadata", action="append", default=[])  # key=value
p.add_argument("--timeout", type=float, default=10)
p.add_argument("--count", type=int, default=1)
args = p.parse_args()

options = [("grpc.default_authority", args.authority)] if args.authority else []
channel = grpc.insecure_channel(args.target, options)
call = channel.unary_unary(args.method)  # no serializers: bytes in, bytes out
metadata = [tuple(m.split("=", 1)) for m in args.metadata]
for _ in range(args.count):
    try:
        response, c = call.with_call(args.message.encode(), timeout=args.timeout, metadata=metadata)
        out = {"code": "OK", "response": response.decode(errors="replace"),
               "initial": dict(c.initial_metadata()), "trailing": dict(c.trailing_metadata())}
    except grpc.RpcError as e:
        out = {"code": e.code().name, "details": e.details() or "",
               "trailing": dict(e.trailing_metadata() or ())}
    print(json.dumps(out), flush=True)
