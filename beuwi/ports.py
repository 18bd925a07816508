"""Loopback ports for the servers BeUWI starts itself (the embedded graph, the benchmark's engine) and for tests."""
import socket


def free_port() -> int:
    """A port nothing listens on right now: a server about to start can take it, a client finds it closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
