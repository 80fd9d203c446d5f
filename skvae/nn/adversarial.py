"""The VAE-GAN (Larsen et al. 2016): a VAE whose decoder also plays against a discriminator.

``VAEGANModel`` is a ``VariationalModel`` with one more part, a
``Discriminator`` that reads rows as the decoder's means describe them
(each likelihood's ``view``: probabilities for Bernoulli and categorical
columns, standardised values, ``log1p`` of counts) and says, by one logit, whether a row is a real
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

from .encoders import ConvEncoder, MLPEncoder
from .layers import Linear, row_mean
from .variational import VariationalModel

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


def _real_loss(logits, weight=None):
    return row_mean(F.softplus(-logits), weight)  # -log sigmoid(logit): minus log D(x)


def _fake_loss(logits, weight=None):
    return row_mean(F.softplus(logits), weight)  # -log(1 - sigmoid(logit))


def discriminator_width(likelihood):
    """Values per row the discriminator reads: the width of the likelihood's view."""
    return likelihood.view_width


def _counted_in_gradient_only(term):
    """``term``'s gradient with the value 0: it trains, but stays out of the reported loss."""
    return term - term.detach()


class VAEGANModel(VariationalModel):
    """A VAE (columns, encoder, latent, decoder) and a discriminator trained against its decoder.

    Parameters
    ----------
    columns, encoder, latent, decoder : nn.Module
        As for ``AutoencoderModel``; the latent must have a standard-normal
        prior, from which the fakes' codes are drawn.

    discriminator : Discriminator
        Reads rows in the view of the likelihood (``ColumnCodec.view``).
    """

    def __init__(self, columns, encoder, latent, decoder, discriminator):
        super().__init__(columns, encoder, latent, decoder)
        self.discriminator = discriminator

    @classmethod
    def assemble(cls, columns, encoder, latent, decoder, *, spec, generator):
        # Built after the VAE's parts from the same generator: a VAE-GAN's
        # encoder and decoder start where a VAETransformer's with the same
        # random_state do. The discriminator is built like the encoder.
        hidden, activation = spec["hidden_layer_sizes"], spec["activation"]
        width = columns.view_width
        image_shape = spec.get("image_shape")
        if image_shape is None:
            body = MLPEncoder(width, hidden, activation, generator=generator)
        else:
            n_pixels = image_shape[0] * image_shape[1] * image_shape[2]
            body = ConvEncoder(image_shape, spec["conv_channels"], hidden, activation,
                               n_extra_features=width - n_pixels, generator=generator)
        discriminator = Discriminator(body, body.out_features, activation, generator=generator)
        return cls(columns, encoder, latent, decoder, discriminator)

    def extra_training_passes(self):
        # loss_terms decodes a prior draw for each row, and runs the discriminator on three rows for
        # each (observed, reconstructed, generated) and its frozen copy on two: 3.7x a VAE's step at
        # 100 features and hidden (64,), which one thread ran where the rule gives two.
        parameter = next(self.parameters())
        zeros = {"device": parameter.device, "dtype": torch.float32}
        code, view = torch.zeros(1, self.latent.decoder_dim, **zeros), torch.zeros(1, self.columns.view_width, **zeros)
        return [(lambda: self.decode(code), 1), (lambda: self.discriminator(view), 5)]

    def discriminate(self, view):
        """``(features, logits)`` of rows in the discriminator's view."""
        return self.discriminator(view)

    def views(self, batch, noise=None):
        """Observed rows, their reconstructions from mu(x) and decoded ``noise`` codes, in the view.

        For diagnostics of a trained model (no draws: ``noise`` holds the
        prior codes).
        """
        condition = batch.condition
        reconstruction = self.columns.view(self.decode(self.code(batch), condition))
        observed = self.columns.observed_view(batch.scored, batch.mask, reconstruction)
        generated = None if noise is None else self.columns.view(self.decode(noise, condition))
        return observed, reconstruction, generated

    def loss_terms(self, batch, generator, *, adversarial_weight=1.0, feature_matching_weight=1.0, **options):
        """The VAE's terms (``"kl"``, ``"reconstruction"``), then the game's, which train without entering the value.

        ``adversarial``: the decoder's non-saturating loss, mean of
        -log D(reconstruction) and -log D(decoded prior draw);
        ``feature_matching``: half the squared distance between the
        discriminator's features of a row and of its reconstruction;
        ``discriminator``: -log D(x) plus the mean of -log(1 - D(fake)) over
        both kinds of fakes. In nats per row. Their values are 0 in the
        sum, so a loss curve and its stopping rule read as a VAE's; their
        gradients are whole, and a non-finite one still makes the value
        non-finite.
        """
        step = self.step(batch, generator, **options)
        terms = self.terms(step)
        z, condition, n_rows = step.z, batch.condition, len(batch)
        prior = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
        reconstruction = self.columns.view(step.decoded)
        generated = self.columns.view(self.decode(prior, condition))
        observed = self.columns.observed_view(batch.scored, batch.mask, reconstruction.detach())

        # The discriminator's turn: fakes detached, so its loss moves it alone.
        features, logits = self.discriminator(torch.cat([observed, reconstruction.detach(), generated.detach()]))
        real_logits, recon_logits, prior_logits = logits.split(n_rows)
        # A row's weight counts for it and its reconstruction; the prior's draws are no rows of X.
        weight = batch.weight
        discriminator = _real_loss(real_logits, weight) + 0.5 * (_fake_loss(recon_logits, weight) + _fake_loss(prior_logits))

        # The decoder's turn, through a discriminator with detached parameters:
        # the gradient reaches the fakes and what made them, never the discriminator.
        frozen = {name: value.detach() for name, value in self.discriminator.named_parameters()}
        fake_features, fake_logits = functional_call(
            self.discriminator, frozen, (torch.cat([reconstruction, generated]),)
        )
        fake_recon_logits, fake_prior_logits = fake_logits.split(n_rows)
        adversarial = 0.5 * (_real_loss(fake_recon_logits, weight) + _real_loss(fake_prior_logits))
        real_features = features[:n_rows].detach()
        feature_matching = 0.5 * row_mean((fake_features[:n_rows] - real_features).square().sum(-1), weight)
        terms["adversarial"] = _counted_in_gradient_only(adversarial_weight * adversarial)
        terms["feature_matching"] = _counted_in_gradient_only(feature_matching_weight * feature_matching)
        terms["discriminator"] = _counted_in_gradient_only(discriminator)
        return terms
