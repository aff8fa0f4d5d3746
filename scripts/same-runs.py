#!/usr/bin/env python3
"""Trains the same small runs with two dnic executables and checks that they
saved the same thing: every checkpoint tensor bit for bit, the checkpoint
metadata and every log record equal, except what differs between any two
runs (timing fields, the random run ids, the directory the files are in).

    scripts/same-runs.py OLD/dnic NEW/dnic

Each of backprop, sg, pipeline and async trains straight to step 100 and
split (50 steps, then --resume to 100, saving back and appending to its
log), at one thread; sg and the pipeline also stop where their log's file
grows past a size limit (the checkpoint then takes the record the log could
not, and the pipeline's batches in flight) and go on in another log, and
stop at a NaN. What each command says on stderr is compared too. Async blocks run on threads of their own, so which
targets a block trains on depends on timing: two async runs of the same dnic
differ in their values (see AsyncTests), and for async only what holds
whatever the timing is compared (tensor names and shapes, steps, samples,
each block's step, the data order). Exit status 0 when every pair is the same.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

BASE = ["train", "--data", "synth:xor-2d", "--width", "16", "--batch", "50", "--eval-every", "20", "--threads", "1", "--quiet"]
RUNS = {
    "backprop": ["--hidden", "3", "--batchnorm", "--validation", "0.1"],
    "sg": ["--hidden", "3", "--batchnorm", "--rule", "sg", "--track-alignment"],
    "pipeline": ["--hidden", "4", "--rule", "sg", "--sg-at", "1,3", "--schedule", "pipeline", "--update-prob", "0.6",
                 "--checkpoint-every", "7"],
    "async": ["--hidden", "4", "--rule", "sg", "--sg-at", "1,3", "--schedule", "async", "--queue", "2",
              "--checkpoint-every", "7"],
}
# interface losses that overflow within a few steps (CLINonFiniteTests)
NAN = ["train", "--data", "synth:grid", "--hidden", "4", "--width", "64", "--rule", "sg", "--sg-at", "1,2,3", "--steps", "600",
       "--threads", "1", "--sg-optimizer", "sgd", "--sg-lr", "10", "--checkpoint-every", "5"]
# timing, and who wrote a record (random per invocation)
TIMING = {"seconds", "samples_per_sec", "busy_seconds", "wait_seconds", "training_seconds", "run", "segment",
          "run_id", "run_segment"}
# under async: values that depend on the blocks' timing
ASYNC = TIMING | {"train_loss", "test_loss", "test_accuracy", "validation_loss", "validation_accuracy", "loss",
                  "staleness_mean", "staleness_max", "loss_sum", "interface_loss_sums"}


def dnic(exe, args, cwd, status=0, file_kb=None):
    """Runs dnic in `cwd` (under a file-size limit of `file_kb`); what it said on stderr."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [exe] + args
    if file_kb:
        command = ["/bin/sh", "-c", f"ulimit -f {file_kb}; trap '' XFSZ; exec \"$0\" \"$@\""] + command
    r = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != status:
        sys.exit(f"{exe} {' '.join(args)}: exit {r.returncode}, not {status}: {r.stderr}")
    return r.stderr.replace(cwd + "/", "DIR/")


def train(exe, directory):
    os.makedirs(directory)
    said = []
    for name, extra in RUNS.items():
        said.append(dnic(exe, BASE + extra + ["--steps", "100", "--save", f"{name}.st", "--log", f"{name}.jsonl"], directory))
        said.append(dnic(exe, BASE + extra + ["--steps", "50", "--save", f"{name}-split.st", "--log", f"{name}-split.jsonl"],
                         directory))
        said.append(dnic(exe, ["train", "--resume", f"{name}-split.st", "--steps", "100", "--threads", "1", "--quiet"], directory))
    for name in ["sg", "pipeline"]:
        full = BASE + RUNS[name] + ["--steps", "400", "--eval-every", "1", "--save", f"{name}-full.st"]
        said.append(dnic(exe, full + ["--log", f"{name}-full.jsonl"], directory, status=1, file_kb=120))
        said.append(dnic(exe, ["train", "--resume", f"{name}-full.st", "--log", f"{name}-rest.jsonl", "--threads", "1",
                               "--quiet"], directory))
        # where the log fills up depends on how long its timing fields print:
        # compared are the run's records across both logs, and its last checkpoint
        both = [os.path.join(directory, f"{name}-{part}.jsonl") for part in ["full", "rest"]]
        with open(os.path.join(directory, f"{name}-full+rest.jsonl"), "w") as out:
            for path in both:
                out.writelines(line for line in open(path) if json.loads(line)["event"] != "checkpoint")
                os.remove(path)
        said[-2] = re.sub(r"\(step \d+\)", "(step N)", said[-2])
        schedule = ["--schedule", "pipeline"] if name == "pipeline" else []
        said.append(dnic(exe, NAN + schedule + ["--save", f"{name}-nan.st"], directory, status=1))
    with open(os.path.join(directory, "stderr.txt"), "w") as f:
        f.write("\n".join(said))


def without_timing(value, directory, drop=TIMING):
    if isinstance(value, dict):
        return {k: without_timing(v, directory, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [without_timing(v, directory, drop) for v in value]
    if isinstance(value, str):
        if value.startswith("{"):  # JSON text inside the metadata (trainer_state, data_files)
            try:
                return without_timing(json.loads(value), directory, drop)
            except ValueError:
                pass
        return value.replace(directory + "/", "DIR/")
    return value


def checkpoint(path, directory, drop):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    tensors = {name: (t["dtype"], t["shape"], data[t["data_offsets"][0]:t["data_offsets"][1]] if drop is TIMING else None)
               for name, t in header.items()}
    return tensors, without_timing(meta, directory, drop)


def log(path, directory, drop):
    return [without_timing(json.loads(line), directory, drop) for line in open(path)]


def main():
    old, new = (os.path.abspath(p) for p in sys.argv[1:3])
    work = tempfile.mkdtemp(prefix="dnic-same-runs-")
    a, b = os.path.join(work, "old"), os.path.join(work, "new")
    train(old, a)
    train(new, b)
    differences = 0
    for name in sorted(os.listdir(a)):
        pa, pb = os.path.join(a, name), os.path.join(b, name)
        drop = ASYNC if name.startswith("async") else TIMING
        if name == "stderr.txt":
            bad = [] if open(pa).read() == open(pb).read() else ["what the commands said"]
            what = f"{len(open(pa).read().splitlines())} lines"
        elif name.endswith(".st"):
            (ta, ma), (tb, mb) = checkpoint(pa, a, drop), checkpoint(pb, b, drop)
            bad = sorted(k for k in set(ta) | set(tb) if ta.get(k) != tb.get(k))
            bad += sorted(f"metadata {k}" for k in set(ma) | set(mb) if ma.get(k) != mb.get(k))
            what = f"{len(ta)} tensors, {len(ma)} metadata keys"
        else:
            la, lb = log(pa, a, drop), log(pb, b, drop)
            bad = [f"record {i}" for i in range(max(len(la), len(lb))) if i >= len(la) or i >= len(lb) or la[i] != lb[i]]
            what = f"{len(la)} records"
        differences += len(bad)
        kind = " (what async fixes)" if drop is ASYNC else ""
        print(f"{name}: {'same' if not bad else 'DIFFERS: ' + ', '.join(bad)}{kind} ({what})")
    print(f"{work}: {'the same' if differences == 0 else f'{differences} differences'}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
