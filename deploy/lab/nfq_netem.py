#!/usr/bin/env python3
"""Userspace netem for kernels without sch_netem: delays or drops the IPv4 packets that an
iptables NFQUEUE rule hands it (hasys-lab netem sets the rule on the node's interface output).

usage: nfq_netem.py --queue N [--ready FILE] [delay TIME [JITTER]] [loss PERCENT%]
TIME like 100ms, 1.5s, 500us. Verdicts only: the payload is never copied or changed.
"""
import argparse
import errno
import heapq
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_DROP, NF_ACCEPT = 0, 1


def parse_time(text):
    for unit, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0)):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                break
    raise ValueError(f"'{text}' is not a time like 100ms, 1.5s or 500us")


def parse_netem(args):
    """Returns (delay, jitter, loss) in seconds, seconds, fraction from netem-style words."""
    delay = jitter = loss = 0.0
    i = 0
    while i < len(args):
        if args[i] == "delay" and i + 1 < len(args):
            delay = parse_time(args[i + 1])
            i += 2
            if i < len(args) and args[i][0].isdigit():
                jitter = parse_time(args[i])
                i += 1
        elif args[i] == "loss" and i + 1 < len(args):
            text = args[i + 1].rstrip("%")
            loss = float(text) / 100.0
            if not 0.0 <= loss <= 1.0:
                raise ValueError(f"loss '{args[i + 1]}' is not 0%..100%")
            i += 2
        else:
            raise ValueError(f"'{args[i]}': the userspace emulation understands only "
                             "'delay TIME [JITTER]' and 'loss PERCENT%'")
    return delay, jitter, loss


class queue:
    def __init__(self, number):
        self.number = number
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind((0, 0))

    def message(self, kind, attrs, flags=NLM_F_REQUEST):
        body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack("!H", self.number)
        for attr_type, payload in attrs:
            size = 4 + len(payload)
            body += struct.pack("=HH", size, attr_type) + payload + b"\0" * (-size % 4)
        self.seq += 1
        header = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, flags,
                             self.seq, 0)
        return header + body

    def configure(self, attrs):
        self.sock.send(self.message(NFQNL_MSG_CONFIG, attrs, NLM_F_REQUEST | NLM_F_ACK))
        reply = self.sock.recv(65536)
        length, kind = struct.unpack_from("=IH", reply)
        if kind == NLMSG_ERROR:
            (code,) = struct.unpack_from("=i", reply, 16)
            if code != 0:
                raise OSError(-code, f"nfqueue {self.number} configuration refused")

    def bind(self):
        self.configure([(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0))])
        self.configure([(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
                        (NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 8192)),
                        (NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN)),
                        (NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN))])

    def packet_ids(self):
        try:
            data = self.sock.recv(1 << 20)
        except OSError as e:
            if e.errno == errno.ENOBUFS:
                return []
            raise
        ids, offset = [], 0
        while offset + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if length < 16:
                break
            if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                at = offset + 20
                while at + 4 <= offset + length:
                    size, attr_type = struct.unpack_from("=HH", data, at)
                    if size < 4:
                        break
                    if attr_type & 0x3FFF == NFQA_PACKET_HDR:
                        ids.append(struct.unpack_from("!I", data, at + 4)[0])
                    at += (size + 3) & ~3
            offset += (length + 3) & ~3
        return ids

    def verdict(self, packet_id, verdict):
        self.sock.send(self.message(NFQNL_MSG_VERDICT,
                                    [(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id))]))


def run(q, delay, jitter, loss):
    pending = []  # (due, order, packet id)
    order = 0
    try:
        while True:
            timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
            readable, _, _ = select.select([q.sock], [], [], timeout)
            if readable:
                now = time.monotonic()
                for packet_id in q.packet_ids():
                    if loss and random.random() < loss:
                        q.verdict(packet_id, NF_DROP)
                        continue
                    wait = max(0.0, delay + random.uniform(-jitter, jitter))
                    order += 1
                    heapq.heappush(pending, (now + wait, order, packet_id))
            now = time.monotonic()
            while pending and pending[0][0] <= now:
                q.verdict(heapq.heappop(pending)[2], NF_ACCEPT)
    finally:
        for _, _, packet_id in pending:
            q.verdict(packet_id, NF_ACCEPT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--ready", help="file created once the queue is bound")
    parser.add_argument("netem", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    try:
        delay, jitter, loss = parse_netem(options.netem)
    except ValueError as e:
        sys.exit(f"nfq_netem: {e}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    q = queue(options.queue)
    q.bind()
    if options.ready:
        open(options.ready, "w").close()
    print(f"nfq_netem: queue {options.queue}: delay {delay * 1000:g} ms jitter "
          f"{jitter * 1000:g} ms loss {loss * 100:g}%", flush=True)
    run(q, delay, jitter, loss)


if __name__ == "__main__":
    main()
