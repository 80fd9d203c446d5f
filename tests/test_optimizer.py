"""skvae's Adam (skvae/_optimizer.py) against torch.optim.Adam(fused=True), and what a fit imports."""

import subprocess
import sys

import pytest
import torch

from skvae._optimizer import Adam


def _problem(seed):
    generator = torch.Generator().manual_seed(seed)
    network = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    for parameter in network.parameters():
        parameter.data.uniform_(-0.5, 0.5, generator=generator)
    scale = torch.nn.Parameter(torch.zeros(2))
    X = torch.randn(32, 5, generator=generator)
    target = torch.randn(32, 2, generator=generator)
    groups = [{"params": list(network.parameters())}, {"params": [scale], "lr": 0.05}]

    def step(optimizer):
        loss = ((network(X) - target) ** 2 * scale.exp()).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return groups, step, [*network.parameters(), scale]


def test_adam_steps_bit_for_bit_as_torch_fused_adam():
    ours, step_ours, params_ours = _problem(0)
    theirs, step_theirs, params_theirs = _problem(0)
    optimizer_ours = Adam(ours, lr=0.01)
    optimizer_theirs = torch.optim.Adam(theirs, lr=0.01, fused=True)
    for _ in range(20):
        step_ours(optimizer_ours)
        step_theirs(optimizer_theirs)
    for mine, reference in zip(params_ours, params_theirs):
        assert torch.equal(mine, reference)


@pytest.mark.parametrize("direction", ["torch to skvae", "skvae to torch"])
def test_adam_state_dict_is_interchangeable_with_torch(direction):
    first, step_first, _ = _problem(1)
    second, step_second, params_second = _problem(1)
    reference, step_reference, params_reference = _problem(1)
    make_first, make_second = (
        (lambda g: torch.optim.Adam(g, lr=0.01, fused=True), lambda g: Adam(g, lr=0.01))
        if direction == "torch to skvae"
        else (lambda g: Adam(g, lr=0.01), lambda g: torch.optim.Adam(g, lr=0.01, fused=True))
    )
    optimizer_first = make_first(first)
    optimizer_reference = make_first(reference)
    for _ in range(5):
        step_first(optimizer_first)
        step_reference(optimizer_reference)
    # The second run starts from the first's weights and optimizer state and
    # must continue exactly as the first would have.
    for target, source in zip(params_second, [p for g in first for p in g["params"]]):
        target.data.copy_(source.data)
    optimizer_second = make_second(second)
    optimizer_second.load_state_dict(optimizer_first.state_dict())
    for _ in range(5):
        step_second(optimizer_second)
        step_reference(optimizer_reference)
    for mine, expected in zip(params_second, params_reference):
        assert torch.equal(mine, expected)


def test_adam_state_dict_of_another_model_is_refused():
    groups, step, _ = _problem(2)
    optimizer = Adam(groups, lr=0.01)
    step(optimizer)
    smaller = Adam([{"params": [torch.nn.Parameter(torch.zeros(3))]}], lr=0.01)
    with pytest.raises(ValueError, match="different number of parameters"):
        smaller.load_state_dict(optimizer.state_dict())


def test_a_fit_imports_neither_dynamo_nor_sympy():
    # torch.optim imports torch._dynamo and a module built on the meta device
    # and moved with to_empty imports sympy: together over a second of a
    # process's first fit, which a small table's whole fit can be shorter than.
    code = (
        "import sys, warnings; import numpy as np; from skvae import VAETransformer\n"
        "warnings.simplefilter('ignore')\n"
        "X = np.random.RandomState(0).normal(size=(60, 4))\n"
        "VAETransformer(max_iter=2).fit(X)\n"
        "VAETransformer(max_iter=2, image_shape=(2, 2)).fit(X)\n"
        "print(sorted(m for m in ('torch._dynamo', 'sympy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_adam_steps_parameters_of_two_dtypes_in_one_group():
    # A custom module may hold float64 parameters beside float32 ones.
    single = torch.nn.Parameter(torch.ones(3))
    double = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    optimizer = Adam([{"params": [single, double]}], lr=0.1)
    (single.sum() + double.sum()).backward()
    optimizer.step()
    reference_single = torch.nn.Parameter(torch.ones(3))
    reference_double = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    reference = torch.optim.Adam([reference_single, reference_double], lr=0.1, fused=True)
    (reference_single.sum() + reference_double.sum()).backward()
    reference.step()
    assert torch.equal(single, reference_single) and torch.equal(double, reference_double)
