"""nn and training: the seed notebook's printed figures, to the printed digits."""

from __future__ import annotations

import random

import pytest

from autodiff import Value
from autodiff.nn import MLP, Layer, Neuron, mse, sse
from autodiff.optim import SGD, Adam
from autodiff.training import seed_model, train_seed_example
from gradproof.cli import main


def test_cell_9_neuron_layer_mlp() -> None:
    random.seed(42)
    x = [2.0, 3.0]
    neuron = Neuron(2)
    assert repr(neuron(x)) == "Value(data=-0.9917, grad=0.0000)"
    layer = Layer(2, 3)
    outs = layer(x)
    assert isinstance(outs, list)
    assert [v.data for v in outs] == [0.5817270619168307, -0.7878755440086811, -0.9983781851034335]
    mlp = MLP(2, [4, 4, 1])
    assert repr(mlp(x)) == "Value(data=-0.5063, grad=0.0000)"
    assert len(mlp.parameters()) == 37


def test_cells_10_to_12_training() -> None:
    assert len(seed_model(42).parameters()) == 41
    result = train_seed_example(iterations=100, lr=0.1, seed=42)
    printed = [f"{result.losses[i]:.6f}" for i in range(0, 100, 20)]
    assert printed == ["5.230518", "0.034212", "0.014531", "0.008926", "0.006351"]
    assert f"{result.losses[-1]:.6f}" == "0.004950"
    assert [f"{p:+.4f}" for p in result.predictions] == ["+0.9663", "-0.9816", "-0.9516", "+0.9663"]


def test_train_command_prints_the_notebook_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == 0
    out = capsys.readouterr().out
    for line in [
        "Total parameters: 41",
        "Iteration   0 | Loss: 5.230518",
        "Iteration  80 | Loss: 0.006351",
        "Final Loss: 0.004950",
        "Sample 2: predicted -0.9816, target -1.0  ✓",
    ]:
        assert line in out


@pytest.mark.parametrize(
    "argv", [["train", "--iterations", "0"], ["train", "--lr", "-1"], ["train", "--momentum", "1.5"]]
)
def test_train_command_rejects_bad_flags(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_adam_and_momentum_train_the_seed_example() -> None:
    for kwargs in ({"optimizer": "adam", "lr": 0.05}, {"optimizer": "sgd", "momentum": 0.9, "lr": 0.02}):
        result = train_seed_example(iterations=60, seed=1, **kwargs)  # type: ignore[arg-type]
        assert result.losses[-1] < 0.1 * result.losses[0]


def test_activations_and_linear_output() -> None:
    random.seed(0)
    net = MLP(2, [3, 1], activation="relu", linear_output=True)
    assert net.layers[0].neurons[0].activation == "relu"
    assert net.layers[-1].neurons[0].activation == "linear"
    with pytest.raises(ValueError, match="unknown activation"):
        Neuron(2, activation="swish")


def test_losses_and_optimizers() -> None:
    p = [Value(1.0), Value(3.0)]
    assert sse(p, [0.0, 1.0]).data == 5.0
    assert mse(p, [0.0, 1.0]).data == 2.5
    with pytest.raises(ValueError, match="2 prediction"):
        mse(p, [1.0])
    w = Value(2.0)
    opt = SGD([w], lr=0.5)
    (w * w).backward()
    opt.step()
    assert w.data == 0.0
    a = Value(1.0)
    adam = Adam([a], lr=0.1)
    (a * a).backward()
    adam.step()
    assert a.data == pytest.approx(0.9)
    with pytest.raises(ValueError, match="learning rate"):
        SGD([a], lr=0)
