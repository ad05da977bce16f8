"""RSS and PSS of a sandbox launcher's process tree, the app excluded.
Usage: memory.py NAME PID. Appends 'NAME RSS_KB PSS_KB' to stdout."""
import os, sys
from proctree import tree

name, top = sys.argv[1], int(sys.argv[2])

def rollup(pid):
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                vals[parts[0]] = int(parts[1])
    return vals.get("Rss:", 0), vals.get("Pss:", 0)

rss = pss = 0
for pid in tree(top):
    try:
        comm = open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        continue
    if comm in ("sleep", "runuser", "bash"):
        continue
    r, p = rollup(pid)
    rss, pss = rss + r, pss + p
print(f"{name}\t{rss}\t{pss}")
