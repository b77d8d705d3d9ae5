#!/usr/bin/env python3
"""What a line server does with more clients than its bound: who is served, who is refused, how fast.

    scripts/overload.py --addr 127.0.0.1:7202 --conns 2128 [--wait 2] [--silent 8]

Opens --conns connections at once (non-blocking, one thread), and each sends one line ("ping")
and waits up to --wait seconds for its first line back. With --silent N, N slow clients connect
first and send nothing (an idle timeout should let them go). Every connection stays open until the
end, so a client being served keeps its slot while the others arrive. Reports, one line each:

    echoed   served: its line came back
    busy     refused: the server's busy line
    (each with how long after its connection was established the answer came)
    closed   closed (or reset) without a line
    silent   no answer within --wait: waiting in the server's queue or the kernel's backlog
    refused  the connect itself failed
    let go   a slow client the server closed

Standard library only, so it runs wherever python3 does.
"""

import argparse
import errno
import resource
import selectors
import socket
import sys
import time

LINE = b"ping\n"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:7202", help="the server, HOST:PORT")
    parser.add_argument("--conns", type=int, default=10, help="connections opened at once")
    parser.add_argument("--wait", type=float, default=2.0, help="seconds to wait for answers")
    parser.add_argument("--silent", type=int, default=0, help="slow clients, sending nothing")
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--addr {args.addr!r} is not HOST:PORT")
    args.host, args.port = host, int(port)
    return args


class Client:
    def __init__(self, sock, began, slow):
        self.sock, self.began, self.slow = sock, began, slow
        self.sent, self.got, self.outcome, self.after = slow, b"", None, None


def classify(client, line):
    if line == LINE.strip():
        return "echoed"
    return "busy" if b"busy" in line else "closed"


def run(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.conns + 64)), hard))
    target = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0]
    chooser = selectors.DefaultSelector()
    clients = []
    for number in range(args.silent + args.conns):
        sock = socket.socket(target[0], socket.SOCK_STREAM)
        sock.setblocking(False)
        client = Client(sock, time.monotonic(), number < args.silent)
        code = sock.connect_ex(target[4])
        if code not in (0, errno.EINPROGRESS):
            client.outcome = "refused"
        else:
            chooser.register(sock, selectors.EVENT_WRITE | selectors.EVENT_READ, client)
        clients.append(client)
    deadline = time.monotonic() + args.wait
    pending = sum(1 for c in clients if c.outcome is None)
    while pending and time.monotonic() < deadline:
        for key, events in chooser.select(timeout=max(0.0, deadline - time.monotonic())):
            client = key.data
            pending -= step(chooser, client, events)
    for client in clients:
        if client.outcome is None:
            client.outcome = "silent"
    return clients


def step(chooser, client, events):
    """Moves one client on; 1 if it now has an outcome."""
    sock = client.sock
    if events & selectors.EVENT_WRITE:
        client.began = time.monotonic()  # established: the clock starts now
    if events & selectors.EVENT_WRITE and client.slow:
        chooser.modify(sock, selectors.EVENT_READ, client)
    elif events & selectors.EVENT_WRITE and not client.sent:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            return finish(chooser, client, "refused")
        try:
            sock.send(LINE)
        except OSError:
            return finish(chooser, client, "closed")
        client.sent = True
        chooser.modify(sock, selectors.EVENT_READ, client)
    if not events & selectors.EVENT_READ:
        return 0
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return 0
    except OSError:
        data = b""
    if not data:
        return finish(chooser, client, "let go" if client.slow else "closed")
    client.got += data
    if b"\n" in client.got:
        return finish(chooser, client, classify(client, client.got.split(b"\n")[0]))
    return 0


def finish(chooser, client, outcome):
    chooser.unregister(client.sock)
    client.outcome, client.after = outcome, time.monotonic() - client.began
    return 1


def percentile(values, p):
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else 0.0


def report(args, clients):
    slow = f" after {args.silent} silent ones" if args.silent else ""
    print(f"{args.conns} connections to {args.addr}{slow}, each sending one line and waiting "
          f"up to {args.wait:g} s for an answer")
    explain = {
        "echoed": "served",
        "busy": "refused with the busy line",
        "closed": "closed without a line",
        "silent": f"no answer within {args.wait:g} s (in a queue or the backlog)",
        "refused": "the connect failed",
        "let go": "silent clients closed by the server",
    }
    for outcome, meaning in explain.items():
        if outcome == "let go" and not args.silent:
            continue
        times = sorted(c.after * 1000 for c in clients if c.outcome == outcome and c.after)
        timing = ""
        if times:
            timing = (f"; answer after min {times[0]:.1f} ms, p50 {percentile(times, 50):.1f} ms, "
                      f"p99 {percentile(times, 99):.1f} ms, max {times[-1]:.1f} ms")
        count = sum(1 for c in clients if c.outcome == outcome and not c.slow)
        if outcome == "let go":
            count = sum(1 for c in clients if c.outcome == outcome)
        print(f"  {outcome:<8}{count:>6}  {meaning}{timing}")


def main():
    args = parse_args()
    try:
        clients = run(args)
    except OSError as e:
        sys.exit(f"overload: {args.addr}: {e.strerror or e}")
    report(args, clients)
    for client in clients:
        client.sock.close()


if __name__ == "__main__":
    main()
