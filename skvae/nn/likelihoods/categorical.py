"""Categorical columns: one softmax over each column's categories."""

import torch
from torch.nn import functional as F

from .base import Likelihood, masked_sum


class CategoricalLikelihood(Likelihood):
    """One categorical distribution per feature; the decoder gives each category's logit.

    A column enters the encoder as a one-hot code of its category and is
    scored by its category's index (0 to k-1, as a float). ``mean`` and
    ``mode`` are both the most probable category.

    Parameters
    ----------
    n_features : int
        Categorical features.

    n_categories : sequence of int
        Categories of each feature; the decoder outputs their sum.
    """

    discrete = True
    auto_dtypes = frozenset({"category"})
    takes_categories = True
    targets_are_inputs = False

    def __init__(self, n_features, *, n_categories=None, **options):
        super().__init__(n_features)
        self.n_categories = [int(k) for k in (n_categories or [2] * n_features)]
        offsets = torch.tensor([0, *self.n_categories[:-1]]).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)

    @property
    def n_inputs(self):
        return sum(self.n_categories)

    @property
    def input_widths(self):
        return list(self.n_categories)

    def encode(self, values):
        index = values.long()
        inputs = torch.zeros(values.shape[0], self.n_inputs, dtype=torch.float32, device=values.device)
        inputs.scatter_(1, index + self.offsets, 1.0)
        return inputs, values.float()

    def n_parameters(self):
        return sum(self.n_categories)

    def _groups(self, params):
        return params.split(self.n_categories, dim=-1)

    def log_prob(self, target, params, mask=None):
        terms = []
        for column, logits in enumerate(self._groups(params)):
            index = target[..., column : column + 1].long().clamp(0, logits.shape[-1] - 1)
            terms.append(torch.log_softmax(logits, -1).gather(-1, index))
        return masked_sum(torch.cat(terms, -1), mask)

    def mean(self, params):
        """Each feature's most probable category."""
        return torch.stack([logits.argmax(-1).to(params.dtype) for logits in self._groups(params)], -1)

    def squared_error(self, target, params):
        """The Brier score of each column: squared distance of its one-hot code from the probabilities."""
        one_hot = self.observed_view(target).double()
        errors = (one_hot - self.view(params).double()).square()
        return torch.stack([e.sum(-1) for e in errors.split(self.n_categories, -1)], -1)

    def mixture(self, params, weights):
        """Each feature's most probable category under the mixture of the decoder outputs."""
        # Each class's softmaxes once: taken per column, they cost columns^2 x classes softmaxes
        # (200 columns: 0.61 s for one row).
        probabilities = [self.probabilities(p) for p in params]
        mixed = [sum(float(w) * each[j].double() for w, each in zip(weights, probabilities))
                 for j in range(self.n_features)]
        return torch.stack([m.argmax(-1).double() for m in mixed], -1)

    def probabilities(self, params):
        return [torch.softmax(logits, -1) for logits in self._groups(params)]

    def sample(self, params, generator):
        draws = []
        for probabilities in self.probabilities(params):
            flat = probabilities.reshape(-1, probabilities.shape[-1])
            draw = torch.multinomial(flat, 1, generator=generator).reshape(probabilities.shape[:-1])
            draws.append(draw.to(params.dtype))
        return torch.stack(draws, -1)

    def view(self, params):
        return torch.cat(self.probabilities(params), -1)

    def view_mask(self, mask):
        return mask.repeat_interleave(torch.as_tensor(self.n_categories, device=mask.device), dim=-1)

    def observed_view(self, target):
        return torch.cat([
            F.one_hot(target[..., j].long().clamp(0, k - 1), k).to(target.dtype)
            for j, k in enumerate(self.n_categories)
        ], -1)
