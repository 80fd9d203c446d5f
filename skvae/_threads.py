"""How many threads torch runs a fit or an evaluation on: as many as the work pays for, never more than allowed.

torch takes every core by default. For the small networks tables get, the
work of one minibatch step is too little to split: measured on 2 cores, a
step of a 10-128-64 VAE at batch 200 took 0.9 ms on one thread and 4.8 ms
on two, and a 100-128-64 one the same on both; from about 30 million
multiply-adds a step two threads paid (1.3-1.7x). Beside other busy
processes, more threads than free cores make every step wait for a
descheduled thread (a fit 4x slower beside one busy process).

So skvae uses one thread per ``WORK_PER_THREAD`` multiply-adds of a step
(forward and backward), at least one, and never more than the cores this
process may run on (its CPU affinity and cgroup quota, not the machine's
core count) nor than the caller allows: ``torch.get_num_threads()``, which
follows ``torch.set_num_threads``, ``OMP_NUM_THREADS``, threadpoolctl's
``threadpool_limits`` (over all libraries or ``"openmp"``: torch's MKL is
linked into torch, out of threadpoolctl's sight, so a ``"blas"`` limit
does not reach it; a block entered before torch is imported does not see
torch) and the limits joblib gives its loky workers (its threading and
multiprocessing backends' jobs each see the whole process's). The caller's
setting is restored after each call. torch has no setting for one thread
alone: ``torch.set_num_threads`` also sets the count a thread takes at its
first torch call. During a fit a thread of skvae's own sets that count
back to the caller's at once, so a Python thread whose first torch call
falls during another thread's fit on fewer threads takes the caller's
count, not the fit's (it kept the fit's for good: a server training in
new threads beside a small fit trained on one thread, and its models
differed in the last bits from the same fits alone). A call that
evaluates rows (``transform``, a score) sets one thread for its own
sub-millisecond length without that: a thread whose first torch call
falls within it keeps one thread. After any call that changed the count
for a while, a thread that enters ``threadpool_limits`` before its first
torch call gets the caller's count instead of the limit: in threads of
your own, call ``torch.set_num_threads`` first. The
choice depends on the model and the machine, never on the load of the
moment, so a fit stays reproducible: results can differ in the last bits
between thread counts (large batches, convolutions), never between runs
of the same call.
"""

import contextlib
import functools
import math
import os
import queue
import threading

import torch
from torch import nn

# Multiply-adds of a step worth one thread (see the module docstring).
WORK_PER_THREAD = 16e6

# torch applies a thread count set before its first parallel call
# (torch.set_num_threads, or MKL_NUM_THREADS beside OMP_NUM_THREADS) at the
# first call that asks, over any threadpool_limits block around that call:
# asked here, on import, a first fit inside such a block keeps to its limit.
torch.get_num_threads()


def usable_cores():
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, quota) if quota else cores)


# Where a cgroup CPU quota is read: v2's "quota period" file, or v1's two files.
CGROUP_FILES = (
    ("/sys/fs/cgroup/cpu.max", None),
    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


@functools.cache
def _cgroup_quota(candidates=CGROUP_FILES):
    """``ceil(quota / period)`` of the cgroup's CPU limit (v2 or v1); None when there is none."""
    for quota_path, period_path in candidates:
        try:
            with open(quota_path) as file:
                fields = file.read().split()
            if period_path is not None:
                with open(period_path) as file:
                    fields = [fields[0], file.read().strip()]
        except (OSError, IndexError):
            continue
        if not fields or fields[0] in ("max", "-1"):  # an empty file says no more than "max" does
            return None
        try:
            return max(1, math.ceil(int(fields[0]) / int(fields[1])))
        except (ValueError, ZeroDivisionError, IndexError):
            return None
    return None


def threads_for(work):
    """Threads for a step of ``work`` multiply-adds: one per ``WORK_PER_THREAD``, within what is allowed."""
    wanted = max(1, math.ceil(work / WORK_PER_THREAD))
    return max(1, min(wanted, torch.get_num_threads(), usable_cores()))


@contextlib.contextmanager
def torch_threads(n_threads, new_threads_keep_the_callers=False):
    """Run the block with torch on ``n_threads`` threads, then put the caller's setting back.

    ``new_threads_keep_the_callers``: a thread whose first torch call falls
    within the block takes the caller's count, not ``n_threads`` (a fit's
    block, seconds long; waking skvae's own thread for it cost a one-row
    transform 0.05-0.13 ms of its 0.4).
    """
    previous = torch.get_num_threads()
    if n_threads == previous:
        yield
        return
    torch.set_num_threads(n_threads)
    try:
        if new_threads_keep_the_callers:
            _new_threads_take(previous)
        yield
    finally:
        torch.set_num_threads(previous)


_counts = queue.SimpleQueue()
_setter = None
_setter_lock = threading.Lock()


def _new_threads_take(n_threads):
    """Set the count a thread takes at its first torch call, from a thread of skvae's own; then return.

    ``torch.set_num_threads`` in another thread sets that count and that
    thread's own, never the caller's. Waited for (tens of microseconds a
    fit), so that no request is left to land after the caller's own
    setting. Where no thread can be started (a process at its limit), the
    count stays as torch left it.
    """
    global _setter
    if _setter is None:
        with _setter_lock:
            if _setter is None:
                setter = threading.Thread(target=_set_counts, name="skvae-new-thread-count", daemon=True)
                try:
                    setter.start()
                except RuntimeError:  # "can't start new thread"
                    return
                _setter = setter
    done = threading.Event()
    _counts.put((n_threads, done))
    done.wait(timeout=1.0)


def _set_counts():
    while True:
        n_threads, done = _counts.get()
        torch.set_num_threads(n_threads)
        done.set()


def _after_fork():
    # A forked child has no setter thread (the next call starts one), and no thread to release a lock.
    global _setter, _counts, _setter_lock
    _setter, _counts, _setter_lock = None, queue.SimpleQueue(), threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def multiply_adds_per_row(model, n_inputs, n_condition=0):
    """Multiply-adds of one row through the model's encoder, latent head and decoder (dense and conv layers).

    Counted once, on a zero row, with hooks on every ``nn.Linear`` (once per
    position, where a user's module applies it along a sequence) and every
    convolution, transposed or not, of any dimension; other layers
    (activations, recurrent layers, a user's own matrix products) are not
    counted, and a model that spends its work there gets fewer threads than
    it could use.
    """

    def encode_and_decode():
        zeros = dict(device=next(model.parameters()).device, dtype=torch.float32)  # whatever torch's default dtype
        condition = torch.zeros(1, n_condition, **zeros) if n_condition else None
        model.decode(model.latent.code(model.encode(torch.zeros(1, n_inputs, **zeros), condition)), condition)

    return _counted(model, encode_and_decode)


def extra_training_multiply_adds(model):
    """Multiply-adds per row of the forward passes a training step runs beyond the row's own (the family's)."""
    return sum(times * _counted(model, run) for run, times in model.extra_training_passes())


def _counted(model, run):
    """Multiply-adds of the model's dense and conv layers while ``run()`` runs, in eval mode, without gradients."""
    counted = []

    def count(module, inputs, output):
        if isinstance(module, nn.Linear):  # once per position of a sequence (tokens) of the one row
            counted.append(output.numel() // module.out_features * module.in_features * module.out_features)
        else:  # every weight once per position: of the output (convolution) or of the input (transposed)
            image = inputs[0] if module.transposed else output
            counted.append(math.prod(image.shape[-len(module.kernel_size):]) * module.weight.numel())

    # A user's Conv1d counted nothing: a two-layer encoder of 9.6 million multiply-adds a row was
    # given one thread, its fit 1.8 times as long as on two.
    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return sum(counted)
