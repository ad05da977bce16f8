"""Many sandboxes: launch throughput and memory of N at once, and what
a long series of launches leaves behind.

  many.py at-once NAME N -- CMD...    N copies of CMD (which must print a
      line once its app runs, then stay), all started together: prints
      'NAME<TAB>N<TAB>SECONDS_UNTIL_ALL_UP<TAB>PSS_KB_PER_SANDBOX'.
  many.py series NAME N STATE_DIR -- CMD...   CMD N times, one after
      another: prints what was there before and after (host mounts,
      sandbox-* cgroups, entries of STATE_DIR, processes of this user,
      this process's descriptors and RSS) as 'NAME<TAB>N<TAB>WHAT<TAB>BEFORE<TAB>AFTER'.

Run as the user whose sandboxes are measured; the PSS is read from each
process's smaps_rollup, which needs the rights of that user (or root).
"""
import os, subprocess, sys, time
from proctree import tree

def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""

def at_once(name, n, cmd):
    start = time.monotonic()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL) for _ in range(n)]
    for p in procs:
        if not p.stdout.readline():
            sys.exit(f"{name}: a sandbox ended before its app ran")
    up = time.monotonic() - start
    # Every process of each sandbox but its app (sleep) and runuser.
    total = sum(pss(pid) for p in procs for pid in tree(p.pid) if comm(pid) not in ("sleep", "runuser"))
    # Every process of every sandbox, not only the first: a launcher
    # outlives a killed runuser.
    pids = [pid for p in procs for pid in tree(p.pid)]
    for pid in pids:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    for p in procs:
        p.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") and comm(pid) for pid in pids):
        time.sleep(0.05)
    print(f"{name}\t{n}\t{up:.3f}\t{total // n}")

def census(state):
    uid = os.getuid()
    mounts = sum(1 for _ in open("/proc/self/mountinfo"))
    cgroups = 0
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        cgroups += sum(1 for d in dirs if d.startswith("sandbox-"))
    try:
        entries = len(os.listdir(state))
    except OSError:
        entries = 0
    procs = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.stat(f"/proc/{p}").st_uid == uid:
                    procs += 1
            except OSError:
                pass
    fds = len(os.listdir("/proc/self/fd"))
    rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
    return {"host mounts": mounts, "sandbox cgroups": cgroups, "state entries": entries,
            "processes of the user": procs, "parent's descriptors": fds, "parent's RSS kB": rss}

def series(name, n, state, cmd):
    before = census(state)
    failed = 0
    for _ in range(n):
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        failed += r.returncode != 0
    time.sleep(1)  # a reaper that outlives its launcher (it should not) shows here
    after = census(state)
    for k in before:
        print(f"{name}\t{n}\t{k}\t{before[k]}\t{after[k]}")
    print(f"{name}\t{n}\tfailed runs\t0\t{failed}")

mode, name = sys.argv[1], sys.argv[2]
cut = sys.argv.index("--")
cmd = sys.argv[cut + 1:]
if mode == "at-once":
    at_once(name, int(sys.argv[3]), cmd)
else:
    series(name, int(sys.argv[3]), sys.argv[4], cmd)
