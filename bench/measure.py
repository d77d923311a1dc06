"""Wall time and peak RSS of one command, for bench/anchor.py and bench/scale.py.

Wall time is taken here (perf_counter around the child). Peak RSS and CPU
time are the child's: from `/usr/bin/time -f '%e %M %U %S'` when that exists,
else from a small Python wrapper process whose getrusage(RUSAGE_CHILDREN)
covers exactly the one command it ran. The machine's busy time in /proc/stat
minus the child's CPU time tells whether other processes shared the CPUs
during the measurement. Standard library only.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"
FORMAT = "%e %M %U %S"

# Runs argv[1:] and prints its peak RSS (KiB on Linux) and CPU seconds as the
# last stderr line.
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stderr.write('\\n__rusage %d %f %f\\n' % (u.ru_maxrss, u.ru_utime, u.ru_stime))\n"
    "sys.exit(rc)\n"
)


def have_gnu_time():
    if not os.access(GNU_TIME, os.X_OK):
        return False
    try:
        r = subprocess.run([GNU_TIME, "-f", FORMAT, "true"], capture_output=True, text=True)
    except OSError:
        return False
    return r.returncode == 0 and re.fullmatch(r"\s*[\d.]+ \d+ [\d.]+ [\d.]+\s*", r.stderr) is not None


USE_GNU_TIME = have_gnu_time()
RSS_METHOD = f"/usr/bin/time -f '{FORMAT}'" if USE_GNU_TIME else "getrusage(RUSAGE_CHILDREN) in a wrapper"


def cpu_busy_s():
    """CPU-seconds the whole machine has spent busy since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    v = [int(x) for x in fields[1:]]
    # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    busy = v[0] + v[1] + v[2] + sum(v[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


# A measurement counts as shared when other processes used more than this
# many CPU-seconds per second of wall time (0.15 = 15% of one core).
BUSY_SHARE = 0.15
WAIT_QUIET_S = 0.0


def wait_quiet(max_s):
    """Wait up to max_s seconds until the machine has been idle (< BUSY_SHARE
    of a core used) for a 2-second window; returns the seconds waited."""
    t0 = time.monotonic()
    while max_s > 0 and time.monotonic() - t0 < max_s:
        a = cpu_busy_s()
        if a is None:
            break
        time.sleep(2)
        if (cpu_busy_s() - a) / 2 < BUSY_SHARE:
            break
    return time.monotonic() - t0


def run(argv, cwd=None, env=None, log=None):
    """Run argv; return dict(wall_s, rss_mib, cpu_s, other_cpu_s, busy, rc,
    stdout, stderr). `cpu_s` is the command's user+system time; `other_cpu_s`
    what the rest of the machine used meanwhile (other processes: a build, a
    test run); `busy` is true when that exceeds BUSY_SHARE per second.

    stdout/stderr are returned as text (the wrapper's own lines removed) and,
    when `log` is a path, also written there."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    try:
        if USE_GNU_TIME:
            cmd = [GNU_TIME, "-f", FORMAT, "-o", time_file, *argv]
        else:
            cmd = [sys.executable, "-c", _WRAPPER, *argv]
        waited = wait_quiet(WAIT_QUIET_S)
        busy0 = cpu_busy_s()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        busy1 = cpu_busy_s()
        stderr = p.stderr
        rss_kib, cpu = None, None
        if USE_GNU_TIME:
            with open(time_file) as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
            # On a non-zero exit GNU time writes "Command exited with non-zero
            # status N" before the format line.
            m = re.fullmatch(r"\s*[\d.]+ (\d+) ([\d.]+) ([\d.]+)\s*", lines[-1]) if lines else None
            if m:
                rss_kib, cpu = int(m.group(1)), float(m.group(2)) + float(m.group(3))
        else:
            m = re.search(r"\n__rusage (\d+) ([\d.]+) ([\d.]+)\n$", stderr)
            if m:
                rss_kib, cpu = int(m.group(1)), float(m.group(2)) + float(m.group(3))
                stderr = stderr[: m.start()]
    finally:
        os.unlink(time_file)
    other = None
    if busy0 is not None and busy1 is not None and cpu is not None:
        # /proc/stat ticks are 10 ms: clamp the rounding below zero.
        other = max(0.0, (busy1 - busy0) - cpu)
    shared = other is not None and other > BUSY_SHARE * wall
    if log:
        with open(log, "w") as f:
            f.write("$ " + " ".join(argv) + "\n")
            f.write(f"# exit {p.returncode}, {wall:.2f} s, peak RSS {rss_kib} KiB, CPU {cpu} s, "
                    f"other processes {other} CPU-s\n")
            f.write("## stdout\n" + p.stdout + "\n## stderr\n" + stderr)
    return {
        "wall_s": wall,
        "rss_mib": None if rss_kib is None else rss_kib / 1024.0,
        "rc": p.returncode,
        "cpu_s": cpu,
        "other_cpu_s": None if other is None else round(other, 2),
        "busy": shared,
        "waited_s": round(waited, 1),
        "stdout": p.stdout,
        "stderr": stderr,
    }


def sequence(steps, cwd=None, env=None, log_prefix=None):
    """Run several commands one after another as one measured job: wall time
    is the sum, peak RSS the largest of the steps. Stops at the first failure.
    `steps` is a list of (name, argv)."""
    out = {"wall_s": 0.0, "rss_mib": None, "rc": 0, "steps": {}}
    for name, argv in steps:
        log = f"{log_prefix}.{name}.log" if log_prefix else None
        r = run(argv, cwd=cwd, env=env, log=log)
        out["wall_s"] += r["wall_s"]
        if r["rss_mib"] is not None:
            out["rss_mib"] = max(out["rss_mib"] or 0.0, r["rss_mib"])
        if r["other_cpu_s"] is not None:
            out["other_cpu_s"] = out.get("other_cpu_s", 0.0) + r["other_cpu_s"]
        out["busy"] = out.get("other_cpu_s", 0.0) > BUSY_SHARE * out["wall_s"]
        out["waited_s"] = out.get("waited_s", 0.0) + r["waited_s"]
        out["steps"][name] = {"wall_s": r["wall_s"], "rss_mib": r["rss_mib"], "rc": r["rc"]}
        if r["rc"] != 0:
            out["rc"] = r["rc"]
            out["failed_step"] = name
            out["error"] = tail(r["stderr"]) or tail(r["stdout"])
            break
    return out


def tail(text, n=6):
    lines = [l for l in text.splitlines() if l.strip()]
    return "\n".join(lines[-n:])


_STAGE = re.compile(r"^(\w[\w ]*?): (?:done|\d+ of \d+) in (?:(\d+) min (\d+) s|([\d.]+) s)$", re.M)


def stage_times(stderr):
    """caploop's progress lines (`ingest: done in 12.3 s`) as {stage: seconds}."""
    out = {}
    for m in _STAGE.finditer(stderr):
        secs = int(m.group(2)) * 60 + int(m.group(3)) if m.group(2) else float(m.group(4))
        out[m.group(1)] = secs
    return out


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return None
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def git_head(repo):
    try:
        sha = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True)
        return sha.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None, None


def binary_commit(repo):
    """The commit the benchmarked binary was built from: $CAPLOOP_BIN_COMMIT
    when set (a binary built elsewhere), else the repository's HEAD and
    whether tracked files differ from it."""
    env = os.environ.get("CAPLOOP_BIN_COMMIT")
    if env:
        return env, False
    return git_head(repo)


def machine():
    mem_kib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    except OSError:
        load = None
    return {
        "cpus": os.cpu_count(),
        "loadavg_1_5_15": load,
        "mem_gib": None if mem_kib is None else round(mem_kib / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "rss_method": RSS_METHOD,
    }


def caploop_version(bin_path):
    try:
        r = subprocess.run([bin_path, "--version"], capture_output=True, text=True)
        return r.stdout.strip() or None
    except OSError:
        return None


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def require_file(path, what):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        sys.exit(f"error: {what} not found or not executable: {path}")


def which(name):
    return shutil.which(name)
