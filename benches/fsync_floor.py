#!/usr/bin/env python3
"""On demand: the disk's floor for a durable write, fdatasync of a 100-byte record, measured alone:
appended (the file grows, as the journal does) and overwritten in place in an already-written file.

    python3 benches/fsync_floor.py [SECONDS]   (in /tmp, where the benches keep their data dirs)
"""
import os, sys, tempfile, time, statistics
def run(mode, seconds, where):
    d = tempfile.mkdtemp(prefix="h3-fsync-", dir=where)
    p = os.path.join(d, "journal")
    fd = os.open(p, os.O_RDWR | os.O_CREAT | (os.O_APPEND if mode == "append" else 0), 0o600)
    if mode == "overwrite":
        os.write(fd, b"\0" * (64 << 20)); os.fsync(fd); os.lseek(fd, 0, 0)
    rec = b"x" * 99 + b"\n"
    t = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        s = time.perf_counter(); os.write(fd, rec); os.fdatasync(fd); t.append(time.perf_counter() - s)
    os.close(fd); os.unlink(p); os.rmdir(d)
    t.sort()
    print(f"{mode:>9}: n={len(t)} {len(t)/sum(t):.0f}/s mean={sum(t)/len(t)*1e3:.3f} ms median={statistics.median(t)*1e3:.3f} p90={t[len(t)*9//10]*1e3:.3f} p99={t[len(t)*99//100]*1e3:.3f}")
for mode in ("append", "overwrite"):
    run(mode, float(sys.argv[1]) if len(sys.argv) > 1 else 3, "/tmp")
