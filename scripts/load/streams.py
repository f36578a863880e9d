"""Holds N server-sent event streams of one run open for a fixed time.

    streams.py URL PATH N SECONDS

Opens N connections to PATH (an `/events` route) at once, checks each
answers `200 text/event-stream`, reads them for SECONDS, counting `progress`
events, then prints one line of figures for load.sh. Exits 1 when a stream
is refused, fails or ends early (the watched run must outlive the test).
Standard library only.
"""

import asyncio
import sys
import time
from urllib.parse import urlsplit


async def hold(host, port, path, until, counts, opened):
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as e:
        counts["errors"] += 1
        print(f"connect: {e}", file=sys.stderr)
        opened.release()
        return
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError) as e:
        counts["errors"] += 1
        print(f"no answer: {e!r}", file=sys.stderr)
        opened.release()
        return
    status = head.split(b" ", 2)[1]
    if status != b"200" or b"text/event-stream" not in head.lower():
        counts["refused"] += 1
        if counts["refused"] <= 3:
            print(f"refused: {head!r}", file=sys.stderr)
        opened.release()
        writer.close()
        return
    counts["opened"] += 1
    opened.release()
    tail = b""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            break
        except OSError as e:
            counts["errors"] += 1
            print(f"read: {e!r}", file=sys.stderr)
            break
        if not chunk:
            counts["early_end"] += 1
            break
        data = tail + chunk
        counts["events"] += data.count(b"event: progress")
        tail = data[-32:]
    writer.close()


async def main():
    url, path, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    u = urlsplit(url)
    counts = {"opened": 0, "refused": 0, "errors": 0, "early_end": 0, "events": 0}
    opened = asyncio.Semaphore(0)
    until = time.monotonic() + seconds
    tasks = [asyncio.create_task(hold(u.hostname, u.port, path, until, counts, opened)) for _ in range(n)]
    for _ in range(n):
        await opened.acquire()
    print(f"STREAMS_OPEN opened={counts['opened']}", flush=True)
    await asyncio.gather(*tasks)
    print(
        f"STREAMS opened={counts['opened']} refused={counts['refused']} errors={counts['errors']} "
        f"early_end={counts['early_end']} progress_events={counts['events']}",
        flush=True,
    )
    ok = counts["opened"] == n and counts["errors"] == 0 and counts["early_end"] == 0
    sys.exit(0 if ok else 1)


asyncio.run(main())
