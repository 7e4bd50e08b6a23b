"""PyTorch baseline for `npm run bench -- train`: the project's architectures rebuilt layer for layer
(trainer/training/architectures.ts) and timed the way bench/train/train-bench.ts times them - random inputs, Adam,
categorical cross-entropy, warm-up steps for --warmup-seconds, then the mean of the measured steps.

Run with Debian's interpreter (`/usr/bin/python3`, package python3-torch). Prints one JSON object
per line: {"arch", "inputSize", "backend", "batch", "trainImagesPerSecond", "inferImagesPerSecond",
"trainImagesPerCpuSecond", "freedMemoryKept", "warmupImagesPerSecond" (with a warm-up)}.
Exit code 3 (and a message on stderr) when torch is not importable.
"""
import argparse
import ctypes
import ctypes.util
import json
import sys
import time


def keep_freed_memory() -> bool:
    """Stops glibc handing PyTorch's large freed tensors back to the OS.

    By default glibc serves a multi-megabyte allocation with mmap and unmaps it when freed, unless
    its adaptive threshold has risen past that size, which depends on the order of earlier frees.
    Where it has not, every step faults a fresh activation back in, page by page: on this 2-core VM
    the compact CNN then trains at 240-320 images/s instead of 700-840, run to run at random
    (ReLU's forward 12x slower, its backward and batch norm's 2x). Fixed thresholds (PyTorch's CPU
    tuning guide gets the same from jemalloc or tcmalloc) make every run the fast one, so the project
    is compared with PyTorch at its best. Must run before torch allocates.
    """
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name)
    m_trim_threshold, m_mmap_threshold = -1, -3
    # mallopt returns 1 on success; glibc caps the mmap threshold at 32 MiB on 64-bit.
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))


# Reported in every row, so the bench never claims a setting that did not take (a libc without mallopt).
FREED_MEMORY_KEPT = "--glibc-default" not in sys.argv and keep_freed_memory()

try:
    import torch
    from torch import nn
except ImportError as exc:  # the caller turns this into an install hint
    print(f"import torch failed: {exc}", file=sys.stderr)
    sys.exit(3)


def tutorial(size: int, classes: int) -> nn.Module:
    # Conv2D(32,3,same,relu), MaxPool(2), Conv2D(32,3,same,relu), MaxPool(2), Flatten, Dense(128,relu), Dense(classes)
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (size // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, classes),
    )


def compact(size: int, classes: int) -> nn.Module:
    # Four blocks of conv (3x3, same, no bias), batch norm (Keras defaults: eps 1e-3, momentum 0.99,
    # which is PyTorch's 0.01), ReLU; max-pooling after the first three; global average pooling; dense.
    layers, channels, filters = [], 3, [24, 32, 64, 96]
    for i, f in enumerate(filters):
        layers += [nn.Conv2d(channels, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, eps=1e-3, momentum=0.01), nn.ReLU()]
        if i < len(filters) - 1:
            layers.append(nn.MaxPool2d(2))
        channels = f
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes)]
    return nn.Sequential(*layers)


ARCHS = {"tutorial": tutorial, "compact": compact}


def timed(runs: int, fn) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        fn()
    return (time.perf_counter() - start) / runs


def warm_up(seconds: float, fn) -> float | None:
    """Three untimed runs, then runs until `seconds` have passed: seconds per run over those, or None."""
    timed(3, fn)
    start, runs = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        fn()
        runs += 1
    return (time.perf_counter() - start) / runs if runs else None


def timed_cpu(runs: int, fn) -> tuple[float, float]:
    """Wall and CPU (all threads of the process) seconds per run."""
    cpu = time.process_time()
    wall = timed(runs, fn)
    return wall, (time.process_time() - cpu) / runs


def bench(arch: str, size: int, batch: int, steps: int, classes: int, warmup_seconds: float) -> dict:
    torch.manual_seed(1)
    model = ARCHS[arch](size, classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    # Softmax output + categorical cross-entropy, as the project's models, is this on logits.
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 3, size, size)
    y = torch.randint(0, classes, (batch,))

    def train_step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    def infer_step():
        with torch.no_grad():
            torch.softmax(model(x), dim=1)

    model.train()
    warmup_s = warm_up(warmup_seconds, train_step)
    train_s, train_cpu_s = timed_cpu(steps, train_step)
    model.eval()
    timed(2, infer_step)
    infer_s = timed(steps * 2, infer_step)
    return {
        "arch": arch, "inputSize": size, "backend": f"pytorch {torch.__version__.split('+')[0]} cpu",
        "batch": batch, "trainImagesPerSecond": batch / train_s, "inferImagesPerSecond": batch / infer_s,
        "trainImagesPerCpuSecond": batch / train_cpu_s, "freedMemoryKept": FREED_MEMORY_KEPT,
        **({"warmupImagesPerSecond": batch / warmup_s} if warmup_s else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", help="arch:inputSize, repeatable (default tutorial:64, compact:64)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="training steps before the measured ones, in seconds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--glibc-default", action="store_true", help="leave glibc's malloc thresholds as they are (see keep_freed_memory)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for spec in args.arch or ["compact:64", "tutorial:64"]:
        arch, _, size = spec.partition(":")
        if arch not in ARCHS:
            sys.exit(f"unknown arch '{arch}': use one of {', '.join(ARCHS)}")
        print(json.dumps(bench(arch, int(size or 64), args.batch, args.steps, args.classes, args.warmup_seconds)), flush=True)


if __name__ == "__main__":
    main()
