"""The VAE-GAN (Larsen et al. 2016): a VAE whose decoder also plays against a discriminator.

``VAEGANModel`` is an ``AutoencoderModel`` with one more part, a
``Discriminator`` that reads rows as the decoder's means describe them (see
``discriminator_view``) and says, by one logit, whether a row is a real
one. Its training loss keeps the VAE's (minus the ELBO: the pixel
likelihood and the KL) and adds, for the encoder and decoder, Larsen's
feature-matching reconstruction term in the discriminator's last hidden
layer and the non-saturating adversarial loss on reconstructions and on
decoded prior draws; and, for the discriminator, its own loss on real rows
against both kinds of fakes.

Both players are trained by one backward pass of one optimizer, at the same
step: the discriminator's loss reads the fakes detached (its gradient
reaches the discriminator only), and the decoder's terms run through the
discriminator with its parameters detached (their gradient reaches the
fakes, and through them the decoder and encoder, never the
discriminator). Each loss so moves only its own player's parameters.
"""

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from .corruption import CORRUPTIONS
from .layers import Linear
from .likelihoods import (
    BernoulliLikelihood,
    CategoricalLikelihood,
    GaussianLikelihood,
    MixedLikelihood,
    NegativeBinomialLikelihood,
    PoissonLikelihood,
)
from .model import AutoencoderModel

# ------------------------------------------------------------------ the view

# How each likelihood's rows look to the discriminator, for generated rows
# (from the decoder's output, differentiably) and for observed ones (from the
# targets): the decoder mean where it is a smooth function of the output;
# category probabilities against one-hot codes; log1p of count means against
# log1p of counts, whose raw scale would swamp the other columns.
_VIEWS = {
    GaussianLikelihood: (lambda likelihood, params: params, lambda likelihood, target: target),
    BernoulliLikelihood: (lambda likelihood, params: torch.sigmoid(params), lambda likelihood, target: target),
    PoissonLikelihood: (lambda likelihood, params: F.softplus(params), lambda likelihood, target: torch.log1p(target)),
    NegativeBinomialLikelihood: (
        lambda likelihood, params: F.softplus(params), lambda likelihood, target: torch.log1p(target)
    ),
    CategoricalLikelihood: (
        lambda likelihood, params: torch.cat(likelihood.probabilities(params), -1),
        lambda likelihood, target: torch.cat([
            F.one_hot(target[..., j].long().clamp(0, k - 1), k).to(target.dtype)
            for j, k in enumerate(likelihood.n_categories)
        ], -1),
    ),
}


def _parts(likelihood):
    if isinstance(likelihood, MixedLikelihood):
        return list(zip(likelihood.parts, likelihood.widths, likelihood.outputs))
    return [(likelihood, likelihood.n_features, likelihood.n_parameters())]


def _view_functions(part):
    for kind, functions in _VIEWS.items():
        if isinstance(part, kind):
            return functions
    raise ValueError(f"The VAE-GAN's discriminator cannot read rows of a {type(part).__name__}.")


def discriminator_width(likelihood):
    """Values per row the discriminator reads: one per decoder output."""
    return likelihood.n_parameters()


def discriminator_view(likelihood, params):
    """Generated rows as the discriminator reads them, from the decoder's output (differentiable)."""
    parts = _parts(likelihood)
    chunks = params.split([outputs for _, _, outputs in parts], -1)
    return torch.cat([_view_functions(part)[0](part, chunk) for (part, _, _), chunk in zip(parts, chunks)], -1)


def observed_view(likelihood, target, mask=None, fill=None):
    """Observed rows as the discriminator reads them, from the likelihood's targets.

    A missing entry (``mask`` 0) takes its value from ``fill``, rows already
    in the view (the model's reconstruction of the row): the discriminator
    cannot tell a row by its holes, and the decoder gains nothing there.
    """
    parts = _parts(likelihood)
    targets = target.split([width for _, width, _ in parts], -1)
    view = torch.cat([_view_functions(part)[1](part, chunk) for (part, _, _), chunk in zip(parts, targets)], -1)
    if mask is None:
        return view
    # One mask entry per target column; a categorical column spans k views.
    masks = mask.split([width for _, width, _ in parts], -1)
    repeats = [
        torch.as_tensor(part.n_categories, device=mask.device) if isinstance(part, CategoricalLikelihood) else None
        for part, _, _ in parts
    ]
    observed = torch.cat([
        chunk if counts is None else chunk.repeat_interleave(counts, dim=-1) for chunk, counts in zip(masks, repeats)
    ], -1)
    return torch.where(observed > 0, view, fill)


# ----------------------------------------------------------- discriminator


class Discriminator(nn.Module):
    """A feature network and a one-logit head: is a row real?

    Parameters
    ----------
    body : nn.Module
        Rows ``(batch, width)`` to features ``(batch, k)``: the layer whose
        values the feature-matching term compares (Larsen et al. 2016).

    n_features : int
        ``k``, the width of ``body``'s output.

    activation : str
        The body's activation (it sets the scale of the head's initial weights).

    generator : torch.Generator or None
        Source of the head's initial weights.
    """

    def __init__(self, body, n_features, activation="relu", *, generator=None):
        super().__init__()
        self.body = body
        self.head = Linear(n_features, 1, activation=activation, generator=generator)

    def forward(self, rows):
        """``(features, logits)``: the hidden features ``(batch, k)`` and the logit ``(batch,)``."""
        features = self.body(rows)
        return features, self.head(features)[..., 0]


def _real_loss(logits):
    return F.softplus(-logits).mean()  # -log sigmoid(logit): minus log D(x)


def _fake_loss(logits):
    return F.softplus(logits).mean()  # -log(1 - sigmoid(logit))


class VAEGANModel(AutoencoderModel):
    """A VAE (encoder, latent, decoder, likelihood) and a discriminator trained against its decoder.

    Parameters
    ----------
    encoder, latent, decoder, likelihood : nn.Module
        As for ``AutoencoderModel``; the latent must have a standard-normal
        prior, from which the fakes' codes are drawn.

    discriminator : Discriminator
        Reads rows in the ``discriminator_view`` of the likelihood.
    """

    def __init__(self, encoder, latent, decoder, likelihood, discriminator):
        super().__init__(encoder, latent, decoder, likelihood)
        self.discriminator = discriminator

    def discriminate(self, view):
        """``(features, logits)`` of rows in the discriminator's view."""
        return self.discriminator(view)

    def views(self, x, target=None, mask=None, condition=None, noise=None):
        """Observed rows, their reconstructions from mu(x) and decoded ``noise`` codes, in the view.

        For diagnostics of a trained model (no draws: ``noise`` holds the
        prior codes).
        """
        reconstruction = discriminator_view(self.likelihood, self.decode(self.code(x, condition), condition))
        observed = observed_view(self.likelihood, x if target is None else target, mask, reconstruction)
        generated = None if noise is None else discriminator_view(self.likelihood, self.decode(noise, condition))
        return observed, reconstruction, generated

    def loss_terms(self, x, *, generator, target=None, mask=None, condition=None, corruption=None,
                   corruption_level=0.0, adversarial_weight=1.0, feature_matching_weight=1.0,
                   **penalty_options):
        """Every term of a training step's loss, each a 0-d tensor (see ``loss``).

        ``elbo_loss``: minus the (weighted) ELBO, as ``AutoencoderModel.loss``;
        ``adversarial``: the decoder's non-saturating loss, mean of
        -log D(reconstruction) and -log D(decoded prior draw);
        ``feature_matching``: half the squared distance between the
        discriminator's features of a row and of its reconstruction;
        ``discriminator``: -log D(x) plus the mean of -log(1 - D(fake)) over
        both kinds of fakes. In nats per row.
        """
        encoder_input = x if corruption is None else CORRUPTIONS[corruption](x, corruption_level, generator)
        params = self.encode(encoder_input, condition)
        z, penalty = self.latent.training_sample(params, generator, **penalty_options)
        decoded = self.decode(z, condition)
        scored = x if target is None else target
        elbo_loss = -self.likelihood.log_prob(scored, decoded, mask).mean()
        if penalty is not None:
            elbo_loss = elbo_loss + penalty

        prior = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
        reconstruction = discriminator_view(self.likelihood, decoded)
        generated = discriminator_view(self.likelihood, self.decode(prior, condition))
        observed = observed_view(self.likelihood, scored, mask, reconstruction.detach())
        n_rows = x.shape[0]

        # The discriminator's turn: fakes detached, so its loss moves it alone.
        features, logits = self.discriminator(torch.cat([observed, reconstruction.detach(), generated.detach()]))
        real_logits, recon_logits, prior_logits = logits.split(n_rows)
        discriminator = _real_loss(real_logits) + 0.5 * (_fake_loss(recon_logits) + _fake_loss(prior_logits))

        # The decoder's turn, through a discriminator with detached parameters:
        # the gradient reaches the fakes and what made them, never the discriminator.
        frozen = {name: value.detach() for name, value in self.discriminator.named_parameters()}
        fake_features, fake_logits = functional_call(
            self.discriminator, frozen, (torch.cat([reconstruction, generated]),)
        )
        fake_recon_logits, fake_prior_logits = fake_logits.split(n_rows)
        adversarial = 0.5 * (_real_loss(fake_recon_logits) + _real_loss(fake_prior_logits))
        real_features = features[:n_rows].detach()
        feature_matching = 0.5 * (fake_features[:n_rows] - real_features).square().sum(-1).mean()
        return {
            "elbo_loss": elbo_loss,
            "adversarial": adversarial_weight * adversarial,
            "feature_matching": feature_matching_weight * feature_matching,
            "discriminator": discriminator,
        }

    def loss(self, x, *, generator, **options):
        """Training loss of a minibatch: its value is minus the ELBO, its gradient every player's.

        The value is ``AutoencoderModel.loss``'s (minus the beta-weighted
        ELBO), so that a loss curve and its stopping rule read the same as a
        VAE's; the adversarial, feature-matching and discriminator terms
        (``loss_terms``) enter with value 0 and their full gradient. A
        non-finite term still makes the value non-finite.
        """
        terms = self.loss_terms(x, generator=generator, **options)
        others = terms["adversarial"] + terms["feature_matching"] + terms["discriminator"]
        return terms["elbo_loss"] + (others - others.detach())
