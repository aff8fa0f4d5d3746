"""dnic beside PyTorch and JAX on the same workloads, in one session.

    python3 compare.py --dnic PATH/TO/dnic [--reps 3] [--quick] [--only w1]

Runs every combination of workload (w1, w2) x rule (backprop, sg) x batch
(64, 256) x threads (1, 2) for each framework, alternating frameworks
within each repetition so that a machine that slows down slows all of
them, each run pinned to its cores with taskset. Prints the median
samples/s of each and the ratios dnic/JAX and dnic/PyTorch, as a Markdown
table (the README's performance table comes from it). PyTorch and JAX
start from the same weights and see the same batches, so the probe losses
they print after training agree: a check that they do the same work. A
framework that is
not importable is left out with a message. Nothing here is a test.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, threads, env=None):
    cores = "0" if threads == 1 else ",".join(str(c) for c in range(threads))
    full = ["taskset", "-c", cores] + cmd
    out = subprocess.run(full, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=HERE)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()[-300:]}")
    return out.stdout


def dnic(path, workload, rule, batch, threads, steps):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        run([path, "bench", "train", "--workload", workload, "--rule", rule, "--batch", str(batch),
             "--threads", str(threads), "--steps", str(steps), "--json", f.name, "--overwrite"], threads)
        return json.load(open(f.name))["samples_per_sec"]


def python_worker(script, workload, rule, batch, threads, steps):
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    out = run([sys.executable, script, workload, rule, str(batch), str(threads), str(steps)], threads, env)
    rate, probe = out.strip().splitlines()[-1].split()
    return float(rate), float(probe)


def importable(module):
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dnic", required=True, help="the dnic executable (a release build)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="fewer steps and one repetition")
    p.add_argument("--only", help="comma-separated filter on workload/rule/batch/threads, e.g. w1,256")
    args = p.parse_args()
    reps = 1 if args.quick else args.reps
    frameworks = {"dnic": None}
    for name, module, script in [("PyTorch", "torch", "worker_torch.py"), ("JAX", "jax", "worker_jax.py")]:
        if importable(module):
            frameworks[name] = script
        else:
            print(f"{name}: not importable here ({module}); left out", file=sys.stderr)
    combos = [(w, r, b, t) for w in ("w1", "w2") for r in ("backprop", "sg") for b in (64, 256) for t in (1, 2)]
    if args.only:
        keys = set(args.only.split(","))
        combos = [c for c in combos if keys <= {c[0], c[1], str(c[2]), f"{c[3]}t"} | {str(c[3])}]
    results = {}
    for rep in range(reps):
        for combo in combos:
            w, r, b, t = combo
            steps = (60 if w == "w1" else 20) * (256 // b) * (1 if args.quick else 5)
            for name, script in frameworks.items():
                probe = ""
                if script is None:
                    value = dnic(args.dnic, w, r, b, t, max(steps, 5))
                else:
                    value, loss = python_worker(os.path.join(HERE, script), w, r, b, t, steps)
                    probe = f" (probe loss {loss:.5f})"
                results.setdefault((combo, name), []).append(value)
                print(f"rep {rep + 1}/{reps} {w} {r} batch {b} {t} thread(s) {name}: {value:,.0f} samples/s{probe}",
                      file=sys.stderr, flush=True)
    names = list(frameworks)
    head = "| workload | rule | batch | threads | " + " | ".join(names) + " |"
    head += "".join(f" dnic / {n} |" for n in names if n != "dnic")
    print(f"\nsamples/s, median of {reps} alternating run(s) per cell, one session\n")
    print(head)
    print("|" + "---|" * (4 + len(names) + len(names) - 1))
    for combo in combos:
        med = {n: statistics.median(results[(combo, n)]) for n in names}
        cells = " | ".join(f"{med[n] / 1000:.1f}k" for n in names)
        ratios = "".join(f" {med['dnic'] / med[n]:.2f} |" for n in names if n != "dnic")
        print(f"| {combo[0].upper()} | {combo[1]} | {combo[2]} | {combo[3]} | {cells} |{ratios}")


if __name__ == "__main__":
    main()
