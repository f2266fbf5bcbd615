#!/usr/bin/env python3
"""Hostile TLS clients for bench/load/run.py: hundreds of connections that misbehave.

Every connection comes from --source (127.0.0.2 by default), so that the server's log lines for
them are told apart from the legitimate load's. Each kind keeps --each connections busy until
--seconds have passed, opening a new one half a second after the server closes one; then the script waits
(up to --drain seconds) for the server to close the ones still held, and prints one JSON object:
per kind, the connections opened and those the server closed.

  drip       sends a TLS record header, then one byte a second
  garbage    sends 512 random bytes that are not TLS
  bigrecord  claims a 64 KiB record (header only) before the handshake, or after a full handshake
  reset      sends a real ClientHello, then resets the connection mid-handshake
  noread     completes the handshake, then pipelines HTTP requests without ever reading
"""
import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import ssl
import struct
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


class Kind:
    def __init__(self):
        self.opened = 0
        self.closed_by_server = 0
        self.held = 0


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def raw_connection(args, receive_buffer=None):
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        # A small window: what the server answers piles up on its side, not in our kernel.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((args.source, 0))
    sock.setblocking(False)
    await loop.sock_connect(sock, (args.host, args.port))
    return sock


async def closed_by_peer(sock, timeout):
    """True once the server has closed (EOF or reset) within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), timeout)
            if not data:
                return True
    except asyncio.TimeoutError:  # an OSError too: it must come first
        return False
    except (ConnectionError, OSError):
        return True


@contextlib.asynccontextmanager
async def held(kind):
    kind.opened += 1
    kind.held += 1
    try:
        yield
    finally:
        kind.held -= 1


async def drip(args, kind):
    loop = asyncio.get_running_loop()
    async with held(kind):
        sock = await raw_connection(args)
        with sock:
            for byte in b"\x16\x03\x01\x02\x00" + os.urandom(512):
                try:
                    await loop.sock_sendall(sock, bytes([byte]))
                except (ConnectionError, OSError):
                    kind.closed_by_server += 1
                    return
                if await closed_by_peer(sock, 1.0):
                    kind.closed_by_server += 1
                    return


async def send_and_wait(args, kind, payload):
    """Sends `payload` in the clear and waits for the server to close."""
    loop = asyncio.get_running_loop()
    async with held(kind):
        sock = await raw_connection(args)
        with sock:
            try:
                await loop.sock_sendall(sock, payload)
            except (ConnectionError, OSError):
                kind.closed_by_server += 1
                return
            if await closed_by_peer(sock, args.drain):
                kind.closed_by_server += 1


async def garbage(args, kind):
    junk = bytearray(os.urandom(512))
    junk[0] = 0x47  # 'G': never a TLS content type
    await send_and_wait(args, kind, bytes(junk))


async def bigrecord(args, kind, after_handshake):
    header = struct.pack("!BHH", 0x17 if after_handshake else 0x16, 0x0303, 0xFFFF)
    if not after_handshake:
        return await send_and_wait(args, kind, header)
    async with held(kind):
        try:
            sock = await raw_connection(args)
            reader, writer = await asyncio.open_connection(
                sock=sock, ssl=tls_context(), server_hostname="localhost")
            # Under the TLS layer: a record header written straight to the socket.
            os.write(sock.fileno(), header)
            try:
                while await asyncio.wait_for(reader.read(65536), args.drain):
                    pass
                kind.closed_by_server += 1
            except asyncio.TimeoutError:
                pass
            writer.transport.abort()
        except (ConnectionError, OSError, ssl.SSLError):
            kind.closed_by_server += 1


async def reset(args, kind):
    loop = asyncio.get_running_loop()
    sock = await raw_connection(args)
    kind.opened += 1
    try:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        engine = tls_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
        try:
            engine.do_handshake()
        except ssl.SSLWantReadError:
            pass
        await loop.sock_sendall(sock, outgoing.read())
        await asyncio.sleep(0.02)  # the server is now in the middle of its flight
    except (ConnectionError, OSError):
        pass
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST


async def noread(args, kind):
    async with held(kind):
        try:
            sock = await raw_connection(args, receive_buffer=4096)
            _, writer = await asyncio.open_connection(
                sock=sock, ssl=tls_context(), server_hostname="localhost", limit=4096)
            batch = REQUEST * 64
            deadline = time.monotonic() + args.seconds + args.drain
            while time.monotonic() < deadline and not writer.transport.is_closing():
                writer.write(batch)
                await asyncio.wait_for(writer.drain(), args.drain)
            if writer.transport.is_closing():
                kind.closed_by_server += 1
            writer.transport.abort()
        except asyncio.TimeoutError:
            pass
        except (ConnectionError, OSError, ssl.SSLError):
            kind.closed_by_server += 1


async def keep(stop, make):
    """Keeps one connection of this kind going until stop, one after another, with a pause
    between them: the point is to hold connections, not to flood the machine (this script
    shares the cores with the servers and the legitimate load)."""
    while not stop.is_set():
        try:
            await make()
        except (ConnectionError, OSError):
            pass
        await asyncio.sleep(0.5)


async def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.2")
    parser.add_argument("--each", type=int, default=100, help="connections per kind at once")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--drain", type=float, default=20)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    kinds = {name: Kind() for name in
             ("drip", "garbage", "bigrecord_handshake", "bigrecord_channel", "reset", "noread")}
    makers = {
        "drip": lambda k: drip(args, k),
        "garbage": lambda k: garbage(args, k),
        "bigrecord_handshake": lambda k: bigrecord(args, k, False),
        "bigrecord_channel": lambda k: bigrecord(args, k, True),
        "reset": lambda k: reset(args, k),
        "noread": lambda k: noread(args, k),
    }
    stop = asyncio.Event()
    tasks = []
    for name, kind in kinds.items():
        count = args.each // 4 if name in ("reset", "bigrecord_channel") else args.each
        for _ in range(max(1, count)):
            tasks.append(asyncio.create_task(
                keep(stop, lambda k=kind, n=name: makers[n](k))))
    await asyncio.sleep(args.seconds)
    stop.set()
    started = time.monotonic()
    await asyncio.wait(tasks, timeout=args.drain + 5)
    result = {name: vars(kind) for name, kind in kinds.items()}
    result["drain_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    os._exit(0)  # tasks still waiting, if any, are abandoned


if __name__ == "__main__":
    asyncio.run(main())
