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
        "\"sandbox\" is the profile that does what bwrap does; \"all defaults\" adds the sandwich, seccomp and Landlock",
        "(a rule per bind).", "",
        "| binds | bwrap ms | sandbox ms | sandbox, writable ms | sandbox, all defaults ms | sandbox / bwrap | all defaults / bwrap | floor ms |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
for n in (10, 100, 1000):
    b, s, w, d = (binds[n][k][0] for k in ("bwrap", "sandbox", "sandbox, writable", "sandbox, all defaults"))
    out.append(f"| {n} | {b:.1f} | {s:.1f} | {w:.1f} | {d:.1f} | {s / b:.3f}x | {d / b:.3f}x | {floor[n]:.1f} |")

scale = hyperfine("scale.json")
sizes = sorted({int(k.split("-")[1]) for k in scale})
out += ["", "## Plan and check by the number of mounts", "",
        "`sandbox check` and `sandbox plan` of a profile of N read-only binds (all defaults), whole commands.", "",
        "| mounts | check ms | per mount µs | plan ms | per mount µs |", "|---:|---:|---:|---:|---:|"]
for n in sizes:
    c, pl = scale[f"check-{n}"][0], scale[f"plan-{n}"][0]
    out.append(f"| {n} | {c:.1f} | {c * 1000 / n:.1f} | {pl:.1f} | {pl * 1000 / n:.1f} |")

work_names = ("walk", "python", "make", "git", "tar")
empty = hyperfine("rt-empty.json")
work_what = {"walk": "a tree walk (`find` over /usr/lib and /usr/share)",
             "python": "an import-heavy Python start",
             "make": "compiling a small C project with make (24 files, -O2, one shared library)",
             "git": "`git status` of a repository of /usr/share/doc (5600 files)",
             "tar": "unpacking a tar archive of /usr/include/linux and /usr/share/man/man3 (11 MB)"}
runtime = {w: hyperfine(f"rt-{w}.json") for w in work_names}
rules = (work / "rt-rules.txt").read_text().strip()
out += ["", "## Work done inside", "",
        "Real work, bare and in each setup. \"none\" is sandbox as bwrap (no sandwich, seccomp or Landlock); each",
        f"next row adds one protection to it; \"all defaults\" has them all (its Landlock step has {rules} rules here).",
        "Each cell: the mean, then what the work itself costs over bare: the setup's own start-up (the \"start-up\"",
        "column, `true` in the same setup, less bare `true`) taken out.", "",
        "| setup | start-up | " + " | ".join(work_names) + " |", "|---|---:|" + "---:|" * len(work_names)]
setups = list(runtime["walk"])
def work_cost(w, name):
    start = empty[name][0] - empty["bare"][0]
    return (runtime[w][name][0] - start) / runtime[w]["bare"][0] - 1
for name in setups:
    cells = [f"{empty[name][0] - empty['bare'][0]:.1f} ms"]
    for w in work_names:
        cells.append(f"{runtime[w][name][0]:.0f} ms ({work_cost(w, name) * 100:+.1f}%)")
    out.append(f"| {name} | " + " | ".join(cells) + " |")
shared = [w for w in work_names if work_cost(w, "bwrap") > 0.5 * max(work_cost(w, "sandbox, all defaults"), 1e-9) and work_cost(w, "bwrap") > 0.1]
out += ["", "The workloads: " + "; ".join(f"{w}: {work_what[w]}" for w in work_names) + "."]
if shared:
    out += ["", "Where bwrap pays as much (" + ", ".join(shared) + "), the cost is the namespaces' and mounts' that both set up,",
            "not one of the protections the rows below \"none\" add."]
out += [""]

many = {}
for line in (work / "many.txt").read_text().splitlines():
    name, n, secs, pss_kb = line.split("\t")
    many[name] = (int(n), float(secs), int(pss_kb))
series = [l.split("\t") for l in (work / "series.txt").read_text().splitlines()]
out += ["## Many sandboxes", "",
        "N sandboxes started at once, each running a shell that says it is up and sleeps: how long until all are up,",
        "and the memory of each sandbox's own processes (launcher, PID 1 and helpers: PSS, the app excluded).", "",
        "| setup | at once | all up after s | sandboxes per s | PSS per sandbox kB |", "|---|---:|---:|---:|---:|"]
for name, (n, secs, pss_kb) in many.items():
    out.append(f"| {name} | {n} | {secs:.2f} | {n / secs:.0f} | {pss_kb} |")
n_series = series[0][1] if series else "0"
out += ["", f"{n_series} launches of the default sandbox one after another, and what was there before and after:", "",
        "| what | before | after |", "|---|---:|---:|"]
for _, _, what, before, after in series:
    out.append(f"| {what} | {before} | {after} |")
left = [w for _, _, w, b, a in series if w not in ("parent's RSS kB",) and b != a]

net = hyperfine("net.json")
out += ["", "## Networked start-up", "",
        "pasta starting its own namespaces for `/bin/true`, against a sandbox with and without `network.mode = \"pasta\"`.", "",
        "| setup | mean ms | ± ms |", "|---|---:|---:|"]
for name, (mean, sd) in net.items():
    out.append(f"| {name} | {mean:.1f} | {sd:.1f} |")
out.append("")

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
s_def = startup["sandbox, all defaults"][0]
d1000, b1000 = binds[1000]["sandbox, all defaults"][0], binds[1000]["bwrap"][0]
floor_bound = 2 * (floor[1000] + s_def)
worst = max(work_cost(w, "sandbox, all defaults") * 100 for w in work_names)
check20k = scale.get("check-20000", (float("nan"),))[0]
net_over = net["sandbox with pasta"][0] - net["pasta alone"][0]
out += ["## Targets", "", "| target | measured | |", "|---|---|---|",
        f"| start-up at most 0.9x bwrap's | {s_equiv / bw:.2f}x | {met(s_equiv / bw <= 0.9)} |",
        f"| start-up within 1.5x of the unshare floor | {s_equiv / fl:.2f}x | {met(s_equiv / fl <= 1.5)} |",
        f"| 1000 binds at most 0.05x bwrap's time | {binds[1000]['sandbox'][0] / binds[1000]['bwrap'][0]:.3f}x | {met(binds[1000]['sandbox'][0] / binds[1000]['bwrap'][0] <= 0.05)} |",
        f"| launcher + PID 1 memory at most bwrap's (PSS) | {sb_mem[1]} kB vs {memory['bwrap'][1]} kB | {met(sb_mem[1] <= memory['bwrap'][1])} |",
        f"| default filter adds under 20 ns to an allowed syscall | {added('default filter'):+.1f} ns ({added('host, one-instruction allow-all filter'):+.1f} ns for any filter) | {met(added('default filter') < 20)} |",
        f"| attaching the filter under 0.15 ms | {attach_ms:.3f} ms | {met(attach_ms < 0.15)} |",
        f"| loading and planning any shipped profile under 1 ms | {plan_max:.1f} µs | {met(plan_max < 1000)} |",
        f"| start-up with all defaults at most 0.7x bwrap's | {s_def / bw:.2f}x | {met(s_def / bw <= 0.7)} |",
        f"| start-up with all defaults at most 1.2x the unshare floor | {s_def / fl:.2f}x | {met(s_def / fl <= 1.2)} |",
        f"| 1000 binds with all defaults at most 0.02x bwrap's | {d1000 / b1000:.3f}x | {met(d1000 / b1000 <= 0.02)} |",
        f"| 1000 binds with all defaults within 2x of the floor plus the empty start-up | {d1000:.1f} ms vs {floor_bound:.1f} ms | {met(d1000 <= floor_bound)} |",
        f"| `check` of 20,000 mounts under 0.5 s | {check20k:.0f} ms | {met(check20k < 500)} |",
        f"| work inside with all defaults at most 3% over bare, start-up aside (worst workload) | {worst:+.1f}% | {met(worst <= 3)} |",
        f"| {n_series} launches leave nothing behind | {', '.join(left) if left else 'nothing left'} | {met(not left)} |",
        f"| a networked sandbox adds nothing measurable to pasta's own start | {net_over:+.1f} ms over pasta alone | {met(net_over <= 0.1 * net['pasta alone'][0])} |", "",
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
