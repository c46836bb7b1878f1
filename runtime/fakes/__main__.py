"""``python -m runtime.fakes``: run every fake platform on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import signal

from . import FAKES


async def serve(base_port: int) -> None:
    fakes = {name: cls() for name, cls in FAKES.items()}
    for offset, (name, fake) in enumerate(fakes.items()):
        url = await fake.start("127.0.0.1", base_port + offset if base_port else 0)
        print(f"{name:9} {url}", flush=True)
    print("tokens: POST {url}/_fake/tokens {\"account\": ...}; faults: POST {url}/_fake/faults", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for fake in fakes.values():
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.fakes", description=__doc__)
    parser.add_argument("--port", type=int, default=8701, help="first port (0: any free ports)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
