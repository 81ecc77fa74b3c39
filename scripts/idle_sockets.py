#!/usr/bin/env python3
"""Holds N idle TCP connections to HOST:PORT open, as a careless or hostile
client would: each connects and sends nothing. When the server closes one
(a timeout, or room made for another client), it is opened again at once,
so that N stay open for the whole run. Prints, on SIGTERM or SIGINT, how
many were opened in all and how many the server closed.

    python3 scripts/idle_sockets.py 127.0.0.1 8080 1000
"""
import selectors
import signal
import socket
import sys


def main() -> None:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sel = selectors.DefaultSelector()
    opened = closed = failed = 0
    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def open_one() -> None:
        nonlocal opened, failed
        try:
            s = socket.create_connection((host, port), timeout=5)
        except OSError:
            failed += 1
            return
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        opened += 1

    for _ in range(count):
        open_one()
    print(f"idle_sockets: {opened} open", file=sys.stderr, flush=True)
    while not stop:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                closed += 1
                open_one()
    print(f"opened={opened} closed_by_server={closed} failed={failed}", flush=True)


if __name__ == "__main__":
    main()
