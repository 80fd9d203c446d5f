"""Adam, one fused kernel a step, without ``torch.optim``.

``torch.optim``'s optimizers import ``torch._dynamo`` the first time one is
built in a process (their methods are wrapped to keep ``torch.compile`` out):
about a second on a 2-core CPU, as long as a whole default fit of a
300-row table. Fits never run under ``torch.compile``, so they have no use
for that import. This class makes the same call ``torch.optim.Adam(...,
fused=True)`` makes, ``torch._fused_adam_``, per device and dtype, so a
step is bit for bit the same, and keeps its ``state_dict`` layout, so
fitted models saved with either load into the other.
"""

import torch

BETAS = (0.9, 0.999)
EPS = 1e-8


class Adam:
    """Adam (Kingma & Ba) over parameter groups, as ``torch.optim.Adam(groups, lr=lr, fused=True)``.

    Parameters
    ----------
    param_groups : list of dict
        Each with ``"params"`` (a list of float tensors on one device) and
        optionally its own ``"lr"``.

    lr : float
        The learning rate of groups that do not set one.

    Attributes
    ----------
    param_groups : list of dict
        The groups, each with its ``"lr"``, which may be changed between
        steps.
    """

    def __init__(self, param_groups, lr):
        self.param_groups = [{**group, "params": list(group["params"]), "lr": group.get("lr", lr)}
                             for group in param_groups]
        self.state = {}

    def _parameters(self):
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self):
        """Drop every gradient (``set_to_none``, as torch's optimizers do by default)."""
        for parameter in self._parameters():
            parameter.grad = None

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            # One call per device and dtype, as torch's fused Adam groups them (a
            # custom module may hold float64 parameters; the kernel takes one kind).
            kinds = {}
            for parameter in group["params"]:
                if parameter.grad is not None:
                    kinds.setdefault((parameter.device, parameter.dtype), []).append(parameter)
            for params in kinds.values():
                states = [self._state(p) for p in params]
                steps = [state["step"] for state in states]
                torch._foreach_add_(steps, 1)
                torch._fused_adam_(
                    params, [p.grad for p in params],
                    [state["exp_avg"] for state in states], [state["exp_avg_sq"] for state in states],
                    [], steps,
                    amsgrad=False, lr=group["lr"], beta1=BETAS[0], beta2=BETAS[1],
                    weight_decay=0.0, eps=EPS, maximize=False, grad_scale=None, found_inf=None,
                )

    def _state(self, parameter):
        state = self.state.get(parameter)
        if state is None:
            state = self.state[parameter] = {
                # As torch's fused Adam: the step count is a float32 scalar on the parameter's device.
                "step": torch.zeros((), dtype=torch.float32, device=parameter.device),
                "exp_avg": torch.zeros_like(parameter, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(parameter, memory_format=torch.preserve_format),
            }
        return state

    def state_dict(self):
        """The moments and step counts by parameter position, in ``torch.optim.Adam``'s layout (not copied)."""
        positions = {parameter: index for index, parameter in enumerate(self._parameters())}
        groups, start = [], 0
        for group in self.param_groups:
            n_params = len(group["params"])
            groups.append({
                **{key: value for key, value in group.items() if key != "params"},
                "betas": BETAS, "eps": EPS, "weight_decay": 0.0, "amsgrad": False, "maximize": False,
                "foreach": None, "capturable": False, "differentiable": False, "fused": True,
                "decoupled_weight_decay": False,
                "params": list(range(start, start + n_params)),
            })
            start += n_params
        state = {positions[parameter]: dict(values) for parameter, values in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take moments, step counts and learning rates from ``state_dict`` (this class's or torch's Adam's)."""
        parameters = self._parameters()
        sizes = [len(group["params"]) for group in self.param_groups]
        if sizes != [len(group["params"]) for group in state_dict["param_groups"]]:
            raise ValueError("The optimizer state holds a different number of parameters than the model "
                             f"(groups of {[len(g['params']) for g in state_dict['param_groups']]}, not {sizes}).")
        self.state = {}
        for index, values in state_dict["state"].items():
            parameter = parameters[int(index)] if 0 <= int(index) < len(parameters) else None
            # The fused kernel writes through the moments as if shaped as their parameter: unchecked,
            # a state of other shapes (a damaged or edited file) wrote past them.
            if parameter is None or any(values[key].shape != parameter.shape for key in ("exp_avg", "exp_avg_sq")) \
                    or values["step"].numel() != 1:
                raise ValueError(f"The optimizer state of parameter {index} does not fit the model's parameters.")
            self.state[parameter] = {
                key: value.to(device=parameter.device,
                              dtype=torch.float32 if key == "step" else parameter.dtype, copy=True)
                for key, value in values.items()
            }
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group["lr"] = saved["lr"]
