"""Turn a bench/run work folder into docs/benchmarks.md and a chart."""
import json, statistics, sys
from pathlib import Path

work, md_path, png_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])

def hyperfine(name):
    data = json.loads((work / name).read_text())
    return {r["command"]: (r["mean"] * 1000, r["stddev"] * 1000 if r["stddev"] else 0.0) for r in data["results"]}

def rounds(pattern):
    """Every round's runs of each command pooled (bench/run measures start-up in rounds)."""
    times = {}
    for f in sorted(work.glob(pattern)):
        for r in json.loads(f.read_text())["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    return {c: (statistics.mean(t) * 1000, statistics.stdev(t) * 1000) for c, t in times.items()}

startup = rounds("startup-*.json")
binds = {n: hyperfine(f"binds{n}.json") for n in (10, 100, 1000)}
floor = {n: statistics.median(float(x) for x in (work / f"floor{n}.txt").read_text().split()) for n in (10, 100, 1000)}
memory = {}
for line in (work / "memory.txt").read_text().splitlines():
    name, rss, pss = line.split("\t")
    memory[name] = (int(rss), int(pss))

out = ["# Benchmarks", "",
       "Written by `bench/run` (do not edit by hand): every case side by side in one run",
       "on one machine, so read the ratios, not the absolute numbers. The machine:",
       "2 cores, " + Path("/proc/version").read_text().split()[2] + " kernel, sandboxes run unprivileged.", ""]

out += ["## Start-up: `/bin/true` in a minimal sandbox", "",
        "User, mount, pid, uts, ipc, net (and cgroup) namespaces; read-only `/usr`; fresh `/proc`, `/dev`; tmpfs `/tmp`.",
        "\"as bwrap\" is the profile that does what the bwrap command does (no sandwich, seccomp or Landlock, the",
        "caller's environment); the last rows add this project's defaults.", "",
        "| setup | mean ms | ± ms | vs bwrap | vs unshare floor |", "|---|---:|---:|---:|---:|"]
bw, fl = startup["bwrap"][0], startup["unshare floor"][0]
for name, (mean, sd) in startup.items():
    out.append(f"| {name} | {mean:.2f} | {sd:.2f} | {mean / bw:.2f}x | {mean / fl:.2f}x |")

out += ["", "## Mount scaling: N read-only binds in one sandbox", "",
        "The floor is the bare mount system calls (bind, then read-only remount) for N binds, timed inside",
        "`unshare -Urm`, without process start-up.", "",
        "| binds | bwrap ms | sandbox ms | sandbox, writable ms | sandbox / bwrap | floor ms |", "|---:|---:|---:|---:|---:|---:|"]
for n in (10, 100, 1000):
    b, s, w = binds[n]["bwrap"][0], binds[n]["sandbox"][0], binds[n]["sandbox, writable"][0]
    out.append(f"| {n} | {b:.1f} | {s:.1f} | {w:.1f} | {s / b:.3f}x | {floor[n]:.1f} |")

out += ["", "## Memory while the app sleeps", "",
        "Every process of the sandbox but the app (launcher, init/monitor).", "",
        "| setup | RSS kB | PSS kB |", "|---|---:|---:|"]
for name, (rss, pss) in memory.items():
    out.append(f"| {name} | {rss} | {pss} |")

out += ["", "## Per-syscall cost of the seccomp filter", "", *(work / "syscall.txt").read_text().splitlines(), "",
        "Any seccomp filter, even one \"allow\" instruction, moves system calls onto the kernel's slower entry path:",
        "the one-instruction row is the floor of every filter. The default filter costs an allowed call no more than",
        "that floor (the kernel caches \"always allowed\" per syscall number, and the filter's layout keeps every",
        "argument-independent number cacheable); `ioctl` is checked by argument, so the filter runs for it.", ""]

out += ["## Profile load + validate + plan", "", *(work / "plan.txt").read_text().splitlines(), ""]

def met(ok):
    return "met" if ok else "**not met**"

s_equiv = startup["sandbox (as bwrap)"][0]
attach = [l for l in (work / "syscall.txt").read_text().splitlines() if l.startswith("attaching")]
attach_ms = float(attach[0].split(":")[1].split()[0]) if attach else float("nan")
sys_rows = {l.split("|")[1].strip(): l for l in (work / "syscall.txt").read_text().splitlines() if l.startswith("| ") and "setup" not in l}
def added(row):
    return float(sys_rows[row].split("|")[3])
plan_max = max(float(l.split("|")[3].split()[0]) for l in (work / "plan.txt").read_text().splitlines() if l.startswith("| ") and "profile" not in l)
sb_mem = memory["sandbox (as bwrap)"]
out += ["## Targets", "", "| target | measured | |", "|---|---|---|",
        f"| start-up at most 0.9x bwrap's | {s_equiv / bw:.2f}x | {met(s_equiv / bw <= 0.9)} |",
        f"| start-up within 1.5x of the unshare floor | {s_equiv / fl:.2f}x | {met(s_equiv / fl <= 1.5)} |",
        f"| 1000 binds at most 0.05x bwrap's time | {binds[1000]['sandbox'][0] / binds[1000]['bwrap'][0]:.3f}x | {met(binds[1000]['sandbox'][0] / binds[1000]['bwrap'][0] <= 0.05)} |",
        f"| launcher + PID 1 memory at most bwrap's (PSS) | {sb_mem[1]} kB vs {memory['bwrap'][1]} kB | {met(sb_mem[1] <= memory['bwrap'][1])} |",
        f"| default filter adds under 20 ns to an allowed syscall | {added('default filter'):+.1f} ns ({added('host, one-instruction allow-all filter'):+.1f} ns for any filter) | {met(added('default filter') < 20)} |",
        f"| attaching the filter under 0.15 ms | {attach_ms:.3f} ms | {met(attach_ms < 0.15)} |",
        f"| loading and planning any shipped profile under 1 ms | {plan_max:.1f} µs | {met(plan_max < 1000)} |", "",
        "![start-up and mount scaling](benchmarks.png)", ""]
md_path.write_text("\n".join(out))

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
names = list(startup)
a.barh(names, [startup[n][0] for n in names], xerr=[startup[n][1] for n in names], color=["#888" if "sandbox" not in n else "#2a7" for n in names])
a.invert_yaxis(); a.set_xlabel("ms (mean ± sd)"); a.set_title("start-up: /bin/true")
ns = [10, 100, 1000]
for label, key, style in (("bwrap", "bwrap", "o-"), ("sandbox", "sandbox", "s-"), ("sandbox, writable", "sandbox, writable", "^-")):
    b.plot(ns, [binds[n][key][0] for n in ns], style, label=label)
b.plot(ns, [floor[n] for n in ns], "k--", label="floor (mount syscalls)")
b.set_xscale("log"); b.set_yscale("log"); b.set_xlabel("read-only binds"); b.set_ylabel("ms"); b.set_title("mount scaling"); b.legend()
fig.tight_layout(); fig.savefig(png_path, dpi=100)
