"""Layers composed: a stack of layers, a bidirectional pair, and PyTorch's multi-layer state dicts.

PyTorch's ``nn.LSTM(D, H, num_layers=L, bidirectional=True)`` is L layers, each a pair of
layers reading the sequence in both directions. Here those are two small wrappers around the
book's layers (:class:`~lstmlib.layers.LSTM`, :class:`~lstmlib.gru.GRU`,
:class:`~lstmlib.layers.RNN`, or each other)::

    Stack([m_1, ..., m_L])          the output sequence of each layer is the input of the next
    Bidirectional(fwd, bwd)         fwd reads x_1 .. x_T, bwd reads x_T .. x_1; at every step
                                    their outputs side by side: hs[t] = [fwd's h_t, bwd's h_t]

Shapes: ``xs`` (T, B, D). A ``Stack``'s ``hs`` is its last layer's, (T, B, H_L); a
``Bidirectional``'s (T, B, 2H), the forward layer's units first, as in PyTorch. Both have::

    hs, state  = model.forward(xs, state=None)
    dxs, dstate0 = model.backward(dhs, dstate=None)

``state`` (and ``dstate``, and what is returned) holds what the inner layers take: for a
``Stack`` a list with one entry per layer, for a ``Bidirectional`` a pair ``(forward's,
backward's)``; each entry is ``None`` (zeros) or the inner layer's state, e.g. ``(h0, c0)`` for
an LSTM, ``h0`` for a GRU or RNN. The backward layer's final state is its state after reading
``x_1`` (PyTorch's ``h_n`` for the reverse direction).

``params`` and ``grads`` are the inner layers' dicts merged under keys prefixed by the position:
``"0.W_f"``, ``"1.W_f"`` for a ``Stack``; ``"forward.W_f"``, ``"reverse.W_f"`` for a
``Bidirectional``; nested, ``"1.reverse.W_r"``. The values are the inner layers' own arrays (not
copies), so an optimizer built on ``model.params`` trains the layers.

:func:`from_torch` turns any ``torch.nn.LSTM`` or ``torch.nn.GRU`` state dict (plain ndarrays or
CPU tensors; any ``num_layers``, bidirectional or not) into the matching model: an ``LSTM``
(``peephole=False``) or ``GRU``, wrapped in ``Bidirectional`` and ``Stack`` as needed.
``model.to_torch()`` gives the state dict back, with PyTorch's key names (``weight_ih_l1``,
``bias_hh_l0_reverse``, ...) and the biases moved as in :mod:`lstmlib.convert` (the sum of the
two biases, which is all the layer sees, is unchanged; GRU: see :mod:`lstmlib.gru`).
What PyTorch's layout cannot hold is refused with a clear error: ``proj_size > 0`` (an LSTM
with a projection, ``weight_hr_l*``), ``bias=False`` (no bias keys), ``nn.RNN`` state dicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from ._checks import check_array, check_called, check_pair
from .gru import GRU
from .layers import LSTM

__all__ = ["Bidirectional", "Stack", "from_torch"]


def _output_size(layer) -> int:
    """The size of what ``layer.forward`` returns at each step (the last axis of ``hs``)."""
    return getattr(layer, "output_size", None) or layer.hidden_size


def _check_layer(name: str, layer) -> None:
    for attr in ("forward", "backward", "params", "grads", "input_size", "dtype"):
        if not hasattr(layer, attr):
            raise TypeError(
                f"{name}: expected a recurrent layer (LSTM, GRU, RNN, Stack or Bidirectional), "
                f"got {type(layer).__name__}"
            )
    if not hasattr(layer, "hidden_size"):
        raise TypeError(
            f"{name}: expected a recurrent layer (LSTM, GRU, RNN, Stack or Bidirectional), got "
            f"{type(layer).__name__} (a readout such as Linear goes after the model, as in "
            "SequenceModel)"
        )


def _merged(parts: Sequence[tuple[str, object]], attr: str) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": v for prefix, layer in parts for k, v in getattr(layer, attr).items()}


class Stack:
    """Layers one on top of another: the output sequence of each is the input of the next.

    ``Stack(layers)``: a non-empty list of recurrent layers of one dtype, ``layers[k + 1]``'s
    ``input_size`` equal to ``layers[k]``'s output size (``hidden_size``, or ``2H`` for a
    ``Bidirectional``). ``input_size`` is the first layer's, ``hidden_size`` (and
    ``output_size``) the last one's output size.

    ``forward(xs (T, B, D), state=None) -> hs (T, B, H_last), [final state of each layer]``;
    ``backward(dhs, dstate=None) -> dxs (T, B, D), [gradient of each layer's initial state]``,
    ``state``/``dstate`` a list with one entry per layer (``None`` entries mean zeros).
    """

    def __init__(self, layers) -> None:
        if not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError(
                f"layers: expected a non-empty list of recurrent layers, got "
                f"{type(layers).__name__}"
            )
        for k, layer in enumerate(layers):
            _check_layer(f"layers[{k}]", layer)
            if any(layer is other for other in layers[:k]):
                raise ValueError(
                    f"layers[{k}]: the same layer object twice in a Stack (its forward would "
                    "overwrite what its backward needs); use two layers"
                )
        for k in range(1, len(layers)):
            expected = _output_size(layers[k - 1])
            if layers[k].input_size != expected:
                raise ValueError(
                    f"layers[{k}]: expected input_size {expected} (the output size of "
                    f"layers[{k - 1}], {layers[k - 1]!r}), got {layers[k].input_size}"
                )
            if layers[k].dtype != layers[0].dtype:
                raise TypeError(
                    f"layers[{k}]: expected dtype {layers[0].dtype} (that of layers[0]), got "
                    f"{layers[k].dtype}"
                )
        self.layers = list(layers)
        self.input_size = layers[0].input_size
        self.hidden_size = self.output_size = _output_size(layers[-1])
        self.dtype = layers[0].dtype
        self._cache = None

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, k: int):
        return self.layers[k]

    def __repr__(self) -> str:
        return "Stack([" + ", ".join(repr(m) for m in self.layers) + "])"

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Every layer's params under keys ``"k.name"`` (k its position): the layers' arrays."""
        return _merged([(str(k), m) for k, m in enumerate(self.layers)], "params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Every layer's grads under the keys of ``params``."""
        return _merged([(str(k), m) for k, m in enumerate(self.layers)], "grads")

    def _per_layer(self, name: str, value) -> list:
        L = len(self.layers)
        if value is None:
            return [None] * L
        if isinstance(value, np.ndarray) or not isinstance(value, (list, tuple)):
            raise TypeError(
                f"{name}: expected None or a list with one entry per layer ({L}), each None or "
                f"what that layer takes, got {type(value).__name__}"
            )
        if len(value) != L:
            raise ValueError(
                f"{name}: expected one entry per layer ({L}), got a list of {len(value)}"
            )
        return list(value)

    def forward(self, xs, state=None):
        """Run every layer in turn; return ``hs`` of the last and the list of final states."""
        states = self._per_layer("state", state)
        hs, finals = xs, []
        for k, (layer, s) in enumerate(zip(self.layers, states, strict=True)):
            try:
                hs, final = layer.forward(hs, s)
            except (TypeError, ValueError) as err:
                raise type(err)(f"layers[{k}]: {err}") from None
            finals.append(final)
        self._cache = True
        return hs, finals

    def backward(self, dhs, dstate=None):
        """Backpropagate through the last ``forward``, last layer first; fills every layer's
        grads. Returns ``dxs`` and the list of the gradients of each layer's initial state."""
        check_called("backward", self._cache)
        dstates = self._per_layer("dstate", dstate)
        d0 = [None] * len(self.layers)
        for k in range(len(self.layers) - 1, -1, -1):
            try:
                dhs, d0[k] = self.layers[k].backward(dhs, dstates[k])
            except (TypeError, ValueError) as err:
                raise type(err)(f"layers[{k}]: {err}") from None
        return dhs, d0

    def to_torch(self) -> dict[str, np.ndarray]:
        """The weights as a ``torch.nn.LSTM``/``nn.GRU(num_layers=len(self), ...)`` state dict:
        every layer of one kind (standard LSTM or GRU), one hidden size, all bidirectional or
        none, as PyTorch's module requires."""
        kinds = {_torch_kind(f"layers[{k}]", m) for k, m in enumerate(self.layers)}
        if len(kinds) > 1:
            raise ValueError(
                "to_torch: PyTorch's nn.LSTM and nn.GRU hold layers of one kind, one hidden size "
                f"and one number of directions; this Stack mixes {sorted(kinds)}"
            )
        out = {}
        for k, m in enumerate(self.layers):
            for key, v in m.to_torch().items():
                out[re.sub(r"_l0(_reverse)?$", rf"_l{k}\1", key)] = v
        return out


def _torch_kind(name: str, layer) -> tuple[str, int, int]:
    """``(kind, hidden size, directions)`` of a layer PyTorch's layout can hold, else an error."""
    if isinstance(layer, Bidirectional):
        kind, H, _ = _torch_kind(f"{name}.forward", layer.forward_layer)
        return kind, H, 2
    if isinstance(layer, (LSTM, GRU)):
        return type(layer).__name__, layer.hidden_size, 1
    raise ValueError(
        f"to_torch: {name} is {layer!r}; PyTorch's nn.LSTM/nn.GRU layout holds LSTM and GRU "
        "layers (possibly Bidirectional), not "
        + ("a Stack inside a Stack" if isinstance(layer, Stack) else type(layer).__name__)
    )


class Bidirectional:
    """Two layers reading a sequence in opposite directions, their outputs side by side.

    ``Bidirectional(forward_layer, backward_layer)``: two distinct layers of one type, input size,
    hidden size and dtype. ``backward_layer`` runs over the reversed sequence, so its output at
    step t has read ``x_t, ..., x_T``: the *future* of step t. ``input_size`` and ``hidden_size``
    are each layer's; ``output_size`` is ``2 * hidden_size``.

    ``forward(xs (T, B, D), state=None) -> hs (T, B, 2H), (forward's final state, backward's)``,
    ``hs[t] = [forward's h_t, backward's h_t]`` (PyTorch's order);
    ``backward(dhs (T, B, 2H), dstate=None) -> dxs (T, B, D), (dstate0 of each)``, ``state``
    and ``dstate`` pairs ``(forward's, backward's)`` (``None``: zeros).
    """

    def __init__(self, forward_layer, backward_layer) -> None:
        _check_layer("forward_layer", forward_layer)
        _check_layer("backward_layer", backward_layer)
        if forward_layer is backward_layer:
            raise ValueError(
                "backward_layer: expected a second layer, got forward_layer itself (one layer "
                "cannot hold the caches of both directions); build two layers"
            )
        if type(forward_layer) is not type(backward_layer):
            raise TypeError(
                f"backward_layer: expected a {type(forward_layer).__name__} like forward_layer, "
                f"got {type(backward_layer).__name__}"
            )
        for attr in ("input_size", "hidden_size", "dtype"):
            a, b = getattr(forward_layer, attr), getattr(backward_layer, attr)
            if a != b:
                raise ValueError(
                    f"backward_layer: expected {attr} {a} (that of forward_layer), got {b}"
                )
        self.forward_layer, self.backward_layer = forward_layer, backward_layer
        self.input_size = forward_layer.input_size
        self.hidden_size = _output_size(forward_layer)
        self.output_size = 2 * self.hidden_size
        self.dtype = forward_layer.dtype
        self._cache = None

    def __repr__(self) -> str:
        return f"Bidirectional({self.forward_layer!r}, {self.backward_layer!r})"

    @property
    def _parts(self):
        return [("forward", self.forward_layer), ("reverse", self.backward_layer)]

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Both layers' params under ``"forward.name"`` and ``"reverse.name"``."""
        return _merged(self._parts, "params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Both layers' grads under the keys of ``params``."""
        return _merged(self._parts, "grads")

    def _pair(self, name: str, value):
        if value is None:
            return None, None
        return check_pair(name, value, ("forward layer's", "backward layer's"))

    def forward(self, xs, state=None):
        """Run ``forward_layer`` over ``xs`` and ``backward_layer`` over ``xs[::-1]``; return
        ``hs`` (T, B, 2H) and the pair of final states."""
        s_fwd, s_bwd = self._pair("state", state)
        hs_f, final_f = self.forward_layer.forward(xs, s_fwd)
        xs = check_array("xs", xs, dtype=self.dtype, dtype_hint="the layers' dtype")
        hs_b, final_b = self.backward_layer.forward(xs[::-1], s_bwd)
        hs = np.concatenate([hs_f, hs_b[::-1]], axis=-1)
        self._cache = hs.shape
        return hs, (final_f, final_b)

    def backward(self, dhs, dstate=None):
        """Backpropagate through the last ``forward``: ``dhs`` (T, B, 2H); returns ``dxs`` (the
        sum of what both layers send back, the backward layer's put back in time order) and the
        pair of initial-state gradients."""
        check_called("backward", self._cache)
        dhs = check_array(
            "dhs", dhs, shape=self._cache, dtype=self.dtype,
            shape_hint="(the shape of hs returned by forward)", dtype_hint="the layers' dtype",
        )  # fmt: skip
        d_fwd, d_bwd = self._pair("dstate", dstate)
        H = self.hidden_size
        dxs_f, d0_f = self.forward_layer.backward(dhs[..., :H], d_fwd)
        dxs_b, d0_b = self.backward_layer.backward(dhs[::-1, ..., H:], d_bwd)
        return dxs_f + dxs_b[::-1], (d0_f, d0_b)

    def to_torch(self) -> dict[str, np.ndarray]:
        """The weights as a one-layer, ``bidirectional=True`` ``torch.nn.LSTM``/``nn.GRU``
        state dict (both layers standard LSTMs, or both GRUs)."""
        _torch_kind("self", self)
        out = dict(self.forward_layer.to_torch())
        out.update({f"{k}_reverse": v for k, v in self.backward_layer.to_torch().items()})
        return out


# --- PyTorch's multi-layer state dicts ------------------------------------------------------------

_TORCH_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def from_torch(state_dict):
    """The lstmlib model of a ``torch.nn.LSTM`` or ``torch.nn.GRU`` state dict.

    ``state_dict``: the module's ``state_dict()`` (CPU tensors or ndarrays, float32 or float64),
    keys ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` for each
    layer ``k`` (and the same with ``_reverse`` if bidirectional). LSTM or GRU is read from the
    shapes (``weight_hh`` (4H, H) or (3H, H)), as are the sizes.

    Returns an ``LSTM(peephole=False)`` or ``GRU`` for one layer in one direction; a
    ``Bidirectional`` of two for one bidirectional layer; a ``Stack`` of those for
    ``num_layers > 1``. ``model.to_torch()`` gives a state dict of the same keys back.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"state_dict: expected a dict of arrays (a module's state_dict()), got "
            f"{type(state_dict).__name__}"
        )
    if not state_dict:
        raise ValueError("state_dict: expected the weights of an nn.LSTM or nn.GRU, got {}")
    groups: dict[tuple[int, bool], dict[str, object]] = {}
    unknown = []
    for key, value in state_dict.items():
        m = _TORCH_KEY.match(str(key))
        if m is None:
            unknown.append(str(key))
            continue
        name, layer, reverse = m.group(1), int(m.group(2)), m.group(3) is not None
        if name == "weight_hr":
            raise ValueError(
                f"state_dict[{key!r}]: a projection (nn.LSTM with proj_size > 0), which lstmlib's "
                "LSTM does not have: its h_t would be W_hr (o_t * tanh(c_t)); build the module "
                "with proj_size=0"
            )
        groups.setdefault((layer, reverse), {})[name] = value
    if unknown:
        hint = ""
        prefixes = {k.rsplit(".", 1)[0] + "." for k in unknown if "." in k}
        if len(prefixes) == 1 and len(unknown) == len(state_dict):
            p = prefixes.pop()
            hint = (
                f"; the keys carry the prefix {p!r} of a module inside a model: pass "
                f"{{k.removeprefix({p!r}): v for k, v in state_dict.items()}}"
            )
        raise ValueError(
            f"state_dict: unexpected key(s) {', '.join(map(repr, sorted(unknown)))}; expected "
            f"those of an nn.LSTM or nn.GRU: weight_ih_l0, weight_hh_l0, bias_ih_l0, "
            f"bias_hh_l0, ... (_l1, _reverse for more layers and directions){hint}"
        )
    L = 1 + max(layer for layer, _ in groups)
    bidirectional = any(rev for _, rev in groups)
    kinds = {}
    for k in range(L):
        for rev in (False, True) if bidirectional else (False,):
            suffix = f"_l{k}" + ("_reverse" if rev else "")
            keys = groups.get((k, rev), {})
            missing = [f"{n}{suffix}" for n in _NAMES if n not in keys]
            if missing:
                why = (
                    " (a module built with bias=False: lstmlib's layers always have biases; "
                    "add zero biases)"
                    if all(n.startswith("bias") for n in (m.split("_l")[0] for m in missing))
                    else ""
                )
                raise ValueError(f"state_dict: missing {', '.join(map(repr, missing))}{why}")
            w_hh = keys["weight_hh"]
            shape = tuple(getattr(w_hh, "shape", ()))
            if len(shape) != 2 or shape[1] == 0 or shape[0] % shape[1]:
                raise ValueError(
                    f"state_dict['weight_hh{suffix}']: expected shape (4H, H) (LSTM) or (3H, H) "
                    f"(GRU), got {shape}"
                )
            kinds[(k, rev)] = shape[0] // shape[1], shape[1]
    gates, H = kinds[(0, False)]
    if gates not in (3, 4):
        raise ValueError(
            f"state_dict['weight_hh_l0']: shape {(gates * H, H)} = ({gates}H, H) is neither an "
            "nn.LSTM's (4H, H) nor an nn.GRU's (3H, H)"
            + (
                " (it is an nn.RNN's: lstmlib's RNN has no PyTorch conversion)"
                if gates == 1
                else ""
            )
        )
    for where, kind in kinds.items():
        if kind != (gates, H):
            suffix = f"_l{where[0]}" + ("_reverse" if where[1] else "")
            raise ValueError(
                f"state_dict['weight_hh{suffix}']: expected shape {(gates * H, H)} like "
                f"weight_hh_l0 (one kind and hidden size for every layer), got "
                f"{(kind[0] * kind[1], kind[1])}"
            )
    cls = LSTM if gates == 4 else GRU
    directions = 2 if bidirectional else 1
    built = {}
    for (k, rev), keys in sorted(groups.items()):
        suffix = f"_l{k}" + ("_reverse" if rev else "")
        try:
            m = cls.from_torch({f"{n}_l0": v for n, v in keys.items()})
        except (TypeError, ValueError) as err:
            raise type(err)(f"state_dict, the keys *{suffix}: {err}") from None
        if k > 0 and m.input_size != directions * H:
            raise ValueError(
                f"state_dict['weight_ih{suffix}']: expected {directions * H} columns (the "
                f"output size of layer {k - 1}: {directions} x H with H = {H}), got {m.input_size}"
            )
        built[(k, rev)] = m
    if len({m.dtype for m in built.values()}) > 1:
        raise TypeError(
            "state_dict: expected one dtype for every array, got "
            + ", ".join(
                f"{m.dtype} in layer {k}{' (reverse)' * rev}" for (k, rev), m in built.items()
            )
        )
    layers = [
        Bidirectional(built[(k, False)], built[(k, True)]) if bidirectional else built[(k, False)]
        for k in range(L)
    ]
    return layers[0] if L == 1 else Stack(layers)
