"""Training samples: masks inside the brain after rotation and cropping, one pool per DataLoader
worker (different volumes in each, refreshed as they go), the noise fill on the training device."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from itermask3d.profiles import get_profile
from itermask3d.samples import TrainingSamples, make_sample, noise_filled_inputs
from itermask3d.training import TrainConfig, train


def _volume(brain, value):
    x = np.where(brain, value, 0.0).astype(np.float32)
    return x, x * 0.5, brain


@pytest.mark.parametrize("rot90_probability, crop", [(0.0, None), (1.0, None), (1.0, (24, 28, 20))])
def test_the_mask_stays_inside_the_brain_after_rotation_and_cropping(brain_ball, rot90_probability, crop):
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, h, mask = make_sample(_volume(brain_ball, 0.7), rng, (2, 1, 4), rot90_probability, crop)
        assert x.shape == h.shape == mask.shape
        if crop:
            assert x.shape == crop
        assert mask.dtype == bool and mask.any()
        assert np.all(x[mask] == np.float32(0.7))  # every masked voxel is brain, in the same orientation


def _numbered_volumes(brain, seed):
    """An endless source whose volumes carry (seed, n) in their intensity, so tests can tell them apart."""
    n = 0
    while True:
        n += 1
        yield _volume(brain, seed + n / 1000.0)


def _stream(brain, seed, pool_size=4, refresh_every=3):
    source = lambda s: _numbered_volumes(brain, s)  # noqa: E731
    return TrainingSamples(source, pool_size, refresh_every, (2, 1, 4), 0.0, None, seed)


def _ids(x):
    return {round(float(v.max()), 3) for v in x}


def test_each_worker_draws_its_own_volumes_and_refreshes_its_pool(brain_ball):
    loader = DataLoader(_stream(brain_ball, seed=10), batch_size=2, num_workers=2)
    seen = set()
    for step, (x, h, mask) in enumerate(loader):
        assert x.shape == (2, *brain_ball.shape) and mask.dtype == torch.bool
        seen |= _ids(x)
        if step == 19:
            break
    by_worker = {int(v) for v in seen}
    assert by_worker == {10, 10 + 1_000_003}  # both workers contributed, each from its own seed
    # each worker starts with 2 volumes and replaces one every 3 samples: later volumes appear
    assert max(v - int(v) for v in seen) > 0.0025


def test_the_same_seed_draws_the_same_samples(brain_ball):
    first = [s for s, _ in zip(_stream(brain_ball, 5), range(6))]
    again = [s for s, _ in zip(_stream(brain_ball, 5), range(6))]
    for (x1, _, m1), (x2, _, m2) in zip(first, again):
        assert np.array_equal(x1, x2) and np.array_equal(m1, m2)
    other = [s for s, _ in zip(_stream(brain_ball, 6), range(6))]
    assert not all(np.array_equal(a[2], b[2]) for a, b in zip(first, other))


def test_noise_fills_the_masked_voxels_only():
    x = torch.full((2, 16, 16, 16), 0.6)
    h = torch.full((2, 16, 16, 16), 0.1)
    mask = torch.zeros((2, 16, 16, 16), dtype=torch.bool)
    mask[:, 4:12] = True
    inputs = noise_filled_inputs(x, h, mask, torch.Generator().manual_seed(0))
    assert inputs.shape == (2, 2, 16, 16, 16)
    assert torch.all(inputs[:, 0][~mask] == 0.6) and torch.all(inputs[:, 1] == 0.1)
    filled = inputs[:, 0][mask]
    assert abs(float(filled.mean())) < 0.05 and abs(float(filled.std()) - 1.0) < 0.05


def test_training_with_worker_processes_on_the_whole_grid(tmp_path, monkeypatch):
    import itermask3d.training as training

    shapes = []
    real_inputs = training.noise_filled_inputs

    def recording(x, *args):
        shapes.append(tuple(x.shape))
        return real_inputs(x, *args)

    monkeypatch.setattr(training, "noise_filled_inputs", recording)
    out = tmp_path / "tiny_t1.pt"
    config = TrainConfig(profile="tiny", sequence="t1", out=str(out), steps=3, batch=2, device="cpu",
                         pool_size=4, refresh_every=1, checkpoint_every=10, seed=3, workers=2, whole_grid=True)
    metadata = train(config, show_progress=False)
    assert metadata["steps"] == 3 and metadata["finished"] and metadata["config"]["workers"] == 2
    assert np.isfinite(metadata["metrics"]["train_loss_last50"])
    assert shapes == [(2, *get_profile("tiny").shape)] * 3


def test_the_train_cli_refuses_a_negative_worker_count_in_one_line(tmp_path, capsys):
    from itermask3d.cli import main

    assert main(["train", "--profile", "tiny", "--out", str(tmp_path / "m.pt"), "--workers", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--workers" in err and not (tmp_path / "m.pt").exists()
