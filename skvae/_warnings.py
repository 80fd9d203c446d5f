"""Warnings that point at the user's line, however deep in skvae and scikit-learn they are raised."""

import contextlib
import os
import sys
import sysconfig
import threading
import warnings

import joblib
import sklearn

# scikit-learn calls a Pipeline's earlier steps through joblib.Memory, and a search's fits through
# joblib.Parallel: their frames are not the user's either.
_INTERNAL = tuple(os.path.dirname(module.__file__) + os.sep
                  for module in (sklearn, joblib, sys.modules[__package__]))
# Where a search's worker threads and processes start: no frame there is the user's.
_STANDARD_LIBRARY = sysconfig.get_paths()["stdlib"] + os.sep


# warnings.catch_warnings swaps the process's filters and restores them at its end: two that
# overlap in time, in threads, restore each other's, and an "ignore" was left in place for good
# (every later warning of the process silenced). skvae's own are taken one at a time.
_CATCHING = threading.RLock()  # re-entrant: a nested use in one thread is no overlap


def _new_lock_after_fork():
    # A fork while another thread held it left the child's copy held for good.
    global _CATCHING
    _CATCHING = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)


@contextlib.contextmanager
def caught_warnings():
    """``warnings.catch_warnings()``, one of skvae's at a time. Warnings other threads raise meanwhile
    are filtered by it too, and a ``catch_warnings`` of another library's running in another thread
    at once (scikit-learn's ``check_array`` has one) can still restore its filters: only skvae's own
    are kept from overlapping, which is why no scoring path uses it."""
    with _CATCHING, warnings.catch_warnings():
        yield


def warn(message, category):
    """``warnings.warn`` at the first frame outside skvae, scikit-learn and joblib.

    A fixed ``stacklevel`` counts frames, and the count differs between
    entry points (``fit``, ``fit_transform``, a subclass's ``_fit``, a
    ``Pipeline``); Python 3.12's ``skip_file_prefixes`` does this, and skvae
    supports 3.10.
    """
    level, frame = 2, sys._getframe(1)  # level 2: the function that called this one
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    if frame is None or _in_standard_library(frame.f_code.co_filename):
        # A worker of a search (a process, a thread) has no line of the user's: name skvae's own,
        # not multiprocessing's.
        level = 2
    warnings.warn(message, category, stacklevel=level)


def _in_standard_library(filename):
    return filename.startswith(_STANDARD_LIBRARY) and "site-packages" not in filename
