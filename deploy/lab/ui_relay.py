#!/usr/bin/python3
"""The lab's door to its manager: a TCP relay from the host's loopback into the lab's manager
namespace, so a browser on the host reaches hasys-manager-api at https://127.0.0.1:PORT.

  ui_relay.py --netns /run/netns/<prefix>-mgr --listen PORT --to HOST:PORT --port-file F --pid-file F

Started in the host's network namespace: it binds 127.0.0.1:PORT there (the next free port if
PORT is taken; 0: any), writes the port, then moves itself into the manager's namespace for
good — the listening socket stays on the host's loopback, every connection it opens is made
inside the lab. Living in the lab's namespace, it is stopped with the lab (hasys-lab down).
Bytes are copied both ways untouched (TLS ends at hasys-manager-api). Nothing but the host's
loopback is listened on.
"""
import argparse
import asyncio
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter_netns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def bind_loopback(port):
    for candidate in ([port] + list(range(port + 1, port + 50)) if port else []) + [0]:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", candidate))
        except OSError:
            s.close()
            continue
        s.listen(128)
        s.setblocking(False)
        return s
    raise OSError("no free port on 127.0.0.1")


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--netns", required=True)
    ap.add_argument("--listen", type=int, default=8443)
    ap.add_argument("--to", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pid-file", required=True)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)

    listener = bind_loopback(a.listen)
    enter_netns(a.netns)  # from here on, connections are opened inside the lab
    with open(a.port_file + ".tmp", "w") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    os.replace(a.port_file + ".tmp", a.port_file)
    with open(a.pid_file, "w") as f:
        f.write(f"{os.getpid()}\n")

    async def serve(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(host, int(port)), 5)
        except (OSError, asyncio.TimeoutError):
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    server = await asyncio.start_server(serve, sock=listener)
    print(f"ui relay: 127.0.0.1:{listener.getsockname()[1]} (host) -> {a.to} in {a.netns}",
          flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
