"""The model: encoder -> latent -> decoder -> likelihood, and the maths that joins them.

``AutoencoderModel`` computes what the estimators need from standardised
float32 rows: the training loss of a minibatch, the per-row bound on
log p(x), the deterministic code and the decoded mean. It knows nothing of
numpy, scikit-learn or the input's units.
"""

from torch import nn


class AutoencoderModel(nn.Module):
    """An autoencoder assembled from its four parts.

    Parameters
    ----------
    encoder : nn.Module
        Rows ``(batch, n_features)`` to features ``(batch, k)``.

    latent : nn.Module
        Features to the latent's parameters, and the rules for drawing and
        penalising codes (``skvae.nn.latents``).

    decoder : nn.Module
        Codes ``(batch, latent_dim)`` to the likelihood's parameters.

    likelihood : nn.Module
        The observation model p(x | z) (``skvae.nn.likelihoods``).
    """

    def __init__(self, encoder, latent, decoder, likelihood):
        super().__init__()
        self.encoder = encoder
        self.latent = latent
        self.decoder = decoder
        self.likelihood = likelihood

    @property
    def latent_dim(self):
        return self.latent.latent_dim

    def encode(self, x):
        """The latent's parameters for each row (for a Gaussian latent, ``(mu, log_var)``)."""
        return self.latent(self.encoder(x))

    def code(self, x):
        """The deterministic code of each row: mu(x), or the autoencoder's code."""
        return self.latent.code(self.encode(x))

    def decode(self, z):
        """The likelihood's parameters for each code."""
        return self.decoder(z)

    def reconstruct(self, z):
        """The mean of p(x | z) for each code."""
        return self.likelihood.mean(self.decoder(z))

    def log_likelihood(self, x, z):
        """log p(x | z) of each row."""
        return self.likelihood.log_prob(x, self.decoder(z))

    def loss(self, x, *, generator, **penalty_options):
        """Training loss of the minibatch ``x``: minus the mean log-likelihood plus the latent's penalty.

        ``penalty_options`` go to the latent's ``penalty`` (for a Gaussian
        latent: ``kl_weight`` and ``free_bits``).
        """
        params = self.encode(x)
        z = self.latent.rsample(params, generator)
        reconstruction = self.log_likelihood(x, z).mean()
        penalty = self.latent.penalty(params, **penalty_options)
        return -reconstruction if penalty is None else penalty - reconstruction

    def bound(self, x, noise, n_importance=1):
        """Per-row lower bound on log p(x): the ELBO, or the IWAE bound for ``n_importance > 1``.

        ``noise`` holds the standard-normal draws, ``(n_draws, rows,
        latent_dim)``; see the latent's ``bound``.
        """
        return self.latent.bound(
            self.encode(x), noise, n_importance, lambda z: self.log_likelihood(x, z)
        )
