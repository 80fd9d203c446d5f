"""What a fit shows while it runs: nothing, a progress bar, or a line per epoch.

``verbose=0`` shows nothing. ``verbose=1`` shows a bar per fit (epochs
done, the loss, the validation score under early stopping, elapsed and
estimated time) through ``tqdm.auto``, which draws it in a notebook too,
when tqdm is installed; otherwise, and at ``verbose >= 2``, it prints
MLPRegressor's line per epoch (``Iteration N, loss = ...``). What is shown
never changes what is computed.
"""

import importlib


def _tqdm():
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        return None


class Progress:
    """The display of one call's training; ``epoch`` after each epoch, ``close`` at the end."""

    def __init__(self, verbose, n_epochs, description):
        self.lines = verbose >= 2 or (verbose == 1 and _tqdm() is None)
        self.bar = None
        if verbose == 1 and not self.lines:
            self.bar = _tqdm()(total=n_epochs, desc=description, unit="epoch", leave=True, dynamic_ncols=True)

    def epoch(self, epoch, loss, score=None):
        if self.lines:
            print(f"Iteration {epoch + 1}, loss = {loss:.8f}")
            if score is not None:
                print(f"Validation score: {score:.8f}")
        elif self.bar is not None:
            postfix = {"loss": f"{loss:.4g}"}
            if score is not None:
                postfix["validation"] = f"{score:.4g}"
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)

    def stopped(self, message):
        if self.lines:
            print(message)
        elif self.bar is not None:
            self.bar.set_description_str(f"{self.bar.desc}: stopped (converged)")

    def close(self):
        if self.bar is not None:
            self.bar.close()
