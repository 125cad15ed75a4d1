#!/usr/bin/env python3
"""Contracts benchmark (SPEC §16, issue #35), each figure a ratio against a peer measured in the same run:

  (a) a provincial report on books with contracts vs the same books without them (target ≤ 1.2×), the
      year's contract figures kept by the first report after the imports (a0, printed apart);
  (b) importing ~150,000 contracts vs importing entries, per row (target: contracts' rate no worse).

Every figure is a whole process timed from outside (wall seconds), on SQLite, the median of --runs runs,
with the two sides alternating so that a busy machine slows both. Needs the release binary
(cargo build --release -p cunji, or CUNJI_BENCH_BIN).

  python3 bench/contracts.py [--villages 50000] [--runs 3]
"""
import argparse, os, shutil, statistics, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BIN = os.environ.get("CUNJI_BENCH_BIN") or os.path.join(TARGET, "release", "cunji")
ENV = dict(os.environ, CUNJI_USER="bench")
POLICY = os.path.join(ROOT, "policies", "bands-national.toml")


def run(db, *args):
    subprocess.run([BIN, "--db", f"sqlite://{db}", *args], check=True, env=ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(db, *args):
    t = time.monotonic()
    run(db, *args)
    return time.monotonic() - t


def fresh(path):
    for s in ("", "-wal", "-shm", ".head"):
        if os.path.exists(path + s):
            os.remove(path + s)
    return path


def copy(src, dst):
    fresh(dst)
    for s in ("", ".head"):
        if os.path.exists(src + s):
            shutil.copyfile(src + s, dst + s)
    return dst


def rows(path):
    with open(path, "rb") as f:
        return sum(1 for _ in f) - 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(TARGET, "bench-contracts"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    data = os.path.join(a.work, f"gen-{a.villages}")
    if not os.path.exists(os.path.join(data, "receipts.csv")):
        subprocess.run([BIN, "gen", "--villages", str(a.villages), "--years", "2024-2024",
                        "--entries-per-month", "1", "--seed", "1", "--out", data],
                       check=True, env=ENV, stderr=subprocess.DEVNULL)
    f = lambda n: os.path.join(data, n)
    n_entries, n_contracts = rows(f("entries.csv")), rows(f("contracts.csv"))
    print(f"# Contracts benchmark: {a.villages} villages, {n_entries} entries, {n_contracts} contracts, "
          f"{rows(f('assets.csv'))} assets, {rows(f('receipts.csv'))} receipts; {os.cpu_count()} cores")

    # (b) Imports, per row: entries then contracts into a database holding regions, grants and assets.
    base = fresh(os.path.join(a.work, "base.db"))
    for k in ("regions", "cadres", "grants", "assets"):
        run(base, "import", k, f(f"{k}.csv"))
    e_times, c_times = [], []
    for i in range(a.runs):
        db = copy(base, os.path.join(a.work, "import.db"))
        e_times.append(timed(db, "import", "entries", f("entries.csv")))
        c_times.append(timed(db, "import", "contracts", f("contracts.csv")))
        print(f"  run {i + 1}: entries {e_times[-1]:.2f} s, contracts {c_times[-1]:.2f} s", flush=True)
    e, c = statistics.median(e_times), statistics.median(c_times)
    e_rate, c_rate = n_entries / e, n_contracts / c
    ok = "met" if c_rate >= e_rate else "MISSED"
    print(f"(b) import: entries {n_entries} rows in {e:.2f} s = {e_rate:,.0f} rows/s; "
          f"contracts {n_contracts} rows in {c:.2f} s = {c_rate:,.0f} rows/s; "
          f"contracts/entries rate {c_rate / e_rate:.2f}× (target ≥ 1.00×: {ok})")

    # (a) The provincial report, with contracts vs without: the same entries (the receipts too, in
    # `without` as plain entries naming no contract), the second also holding the assets, contracts
    # and installments.
    withc = copy(db, os.path.join(a.work, "with.db"))
    run(withc, "import", "installments", f("installments.csv"))
    run(withc, "import", "entries", f("receipts.csv"))
    plain = f("receipts-plain.csv")
    with open(f("receipts.csv"), encoding="utf-8") as src, open(plain, "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(line.rstrip("\n").rsplit(",", 1)[0] + "\n")
    w0 = fresh(os.path.join(a.work, "without.db"))
    for k in ("regions", "cadres", "grants", "entries"):
        run(w0, "import", k, f(f"{k}.csv"))
    run(w0, "import", "entries", plain)
    # The first report after a change of the books judges the contracts and keeps the year's figures
    # (a past year); the next ones read them. Both are printed: the first, once, against a report
    # without contracts run just before it; the kept ones in the alternating runs below.
    w_first = timed(w0, "report", "--year", "2024", "--policy", POLICY, "--format", "json")
    c_first = timed(withc, "report", "--year", "2024", "--policy", POLICY, "--format", "json")
    print(f"(a0) first report after the imports (judges the contracts, keeps the figures): "
          f"without {w_first:.2f} s, with {c_first:.2f} s: {c_first / w_first:.2f}×", flush=True)
    r_without, r_with = [], []
    for i in range(a.runs):
        r_without.append(timed(w0, "report", "--year", "2024", "--policy", POLICY, "--format", "json"))
        r_with.append(timed(withc, "report", "--year", "2024", "--policy", POLICY, "--format", "json"))
        print(f"  run {i + 1}: report without {r_without[-1]:.2f} s, with {r_with[-1]:.2f} s", flush=True)
    rw, rc = statistics.median(r_without), statistics.median(r_with)
    ok = "met" if rc / rw <= 1.2 else "MISSED"
    print(f"(a) provincial report 2024, figures kept: without contracts {rw:.2f} s, with {rc:.2f} s: "
          f"{rc / rw:.2f}× (target ≤ 1.20×: {ok})")


if __name__ == "__main__":
    main()
