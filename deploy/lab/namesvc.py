#!/usr/bin/env python3
"""The lab's client-facing service: answers every TCP connection with the node's name.

Bound to 0.0.0.0, so whichever node holds a virtual IP answers on it: a client's
`exec gw` connection to 198.51.100.100:8080 reads the name of the Active node.
"""
import socketserver
import sys


class name_handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall((self.server.node_name + "\n").encode())


class name_server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    # A third argument (lab=<prefix>) only tells hasys-monitor's pattern which lab it belongs to.
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: namesvc.py NODE_NAME PORT [lab=PREFIX]")
    server = name_server(("0.0.0.0", int(sys.argv[2])), name_handler)
    server.node_name = sys.argv[1]
    print(f"namesvc: {server.node_name} listening on 0.0.0.0:{sys.argv[2]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
