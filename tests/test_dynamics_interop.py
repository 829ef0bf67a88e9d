"""PyTorch in and out, and torch / JAX arrays accepted wherever arrays are."""

from __future__ import annotations

import numpy as np
import pytest

import fastscape

torch = pytest.importorskip("torch")


def test_round_trip_and_training_in_torch():
    m = fastscape.Moments(np.eye(3), np.diag([3.0, 2.0, 1.0]), np.eye(3) * 5)
    ws = fastscape.random_weights([3, 2, 3], seed=0, scale=0.1)
    net = fastscape.to_torch(ws)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    back = fastscape.from_torch(net)
    assert all(np.array_equal(a, b) for a, b in zip(ws, back, strict=True))
    # torch's forward pass is W_2 W_1 x
    x = torch.randn(5, 3, dtype=torch.float64)
    assert np.allclose(net(x).detach().numpy(), x.numpy() @ fastscape.product(ws).T, atol=1e-14)
    # full-batch GD in torch on the same loss equals fastscape's run to rounding
    X = torch.eye(3, dtype=torch.float64) * np.sqrt(3)
    Y = X @ torch.diag(torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64))
    mm = fastscape.Moments.from_data(X, Y)  # torch tensors accepted
    assert np.allclose(mm.syx, m.syx) and np.allclose(mm.sxx, m.sxx)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        loss = 0.5 * ((net(X) - Y) ** 2).sum(dim=1).mean()
        loss.backward()
        opt.step()
    tr = fastscape.gradient_descent(ws, mm, lr=0.05, steps=50, record_every=50)
    got = fastscape.from_torch(net)
    scale = max(np.abs(w).max() for w in got)
    for a, b in zip(got, tr.weights, strict=True):
        assert np.abs(a - b).max() <= 1e-12 * scale


def test_tensors_accepted_wherever_arrays_are():
    m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    ws = [torch.randn(2, 2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    ref = [w.detach().numpy() for w in ws]
    assert fastscape.loss(ws, m) == fastscape.loss(ref, m)
    assert np.array_equal(fastscape.gradient(ws, m), fastscape.gradient(ref, m))
    tr = fastscape.gradient_descent(ws, m, lr=0.1, steps=5)
    assert np.array_equal(tr.loss, fastscape.gradient_descent(ref, m, lr=0.1, steps=5).loss)
    assert fastscape.locate(ws, m).index_set == fastscape.locate(ref, m).index_set
    t32 = torch.eye(2, dtype=torch.float32)
    assert fastscape.Moments(t32, t32, t32).sxx.dtype == np.float64


def test_from_torch_names_the_first_offending_layer():
    nn = torch.nn
    with pytest.raises(ValueError, match=r"layer '1' is a ReLU"):
        fastscape.from_torch(nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU()))
    with pytest.raises(ValueError, match=r"layer '0' \(nn.Linear\) has a bias"):
        fastscape.from_torch(nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2, bias=False)))
    nested = nn.Sequential()
    nested.add_module("body", nn.Sequential(nn.Linear(2, 2, bias=False), nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match=r"layer 'body.1' is a Conv1d"):
        fastscape.from_torch(nested)
    with pytest.raises(ValueError, match="needs 3 columns"):
        fastscape.from_torch(
            nn.Sequential(nn.Linear(2, 3, bias=False), nn.Linear(2, 2, bias=False))
        )
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fastscape.from_torch([np.eye(2)])


def test_jax_arrays_accepted():
    jnp = pytest.importorskip("jax.numpy")
    m = fastscape.Moments(np.eye(2), np.diag([2.0, 1.0]), np.eye(2) * 3)
    ws = [np.array([[0.5, 0.1], [0.2, 0.3]]), np.array([[1.0, 0.0], [0.3, 0.7]])]
    jws = [jnp.asarray(w) for w in ws]
    assert fastscape.loss(jws, m) == pytest.approx(fastscape.loss(ws, m), rel=1e-6)
    tr = fastscape.gradient_descent(jws, m, lr=0.1, steps=3)
    assert tr.loss.dtype == np.float64 and np.all(np.isfinite(tr.loss))
