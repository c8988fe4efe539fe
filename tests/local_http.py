"""The local HTTP server behind each fake of a provider (Stripe, Twilio), one per test."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# `serve_forever` looks at its stop flag once per poll, and `shutdown()` waits for that look:
# at the standard half second, every test with a fake ended half a second late.
POLL_INTERVAL = 0.01


class LocalHTTPServer:
    """Serves `handler` on a free port of 127.0.0.1 in a thread until `close()`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
