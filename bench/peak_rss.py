"""Peak resident memory of this process, for the benchmarks that report memory."""

from __future__ import annotations

import resource
import sys


def peak_rss_bytes() -> int:
    """This process's peak RSS. On Linux from VmHWM: ``ru_maxrss`` keeps the peak of
    the parent that started the process (the high-water mark survives exec), so a child
    of a large benchmark process would report at least the parent's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)  # bytes on macOS, KiB on Linux
