"""Training-mode parity with the published SpatialAST / DSpAST code (golden data in tests/fixtures/golden_training)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seldkit.models import create_model
from seldkit.models.layers.adacos import AdaCos
from seldkit.models.registry import reference_key
from seldkit.train.config import Stage, TrainConfig
from seldkit.train.distributed import World
from seldkit.train.loop import Progress, Trainer, compute_losses
from seldkit.train.optim import learning_rate, parameter_groups

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden_training"
F64, F32 = 1e-9, 2e-6  # float64 run with the published float32 constants; float32 run


def deviation(got, reference) -> float:
    """max |got - ref| / max |ref|, as the golden data's README defines it."""
    got, reference = np.asarray(got, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    return float(np.max(np.abs(got - reference)) / np.max(np.abs(reference)))


# a recipe with the published optimiser settings (the configuration's defaults for the rest)
RECIPE = dict(
    model="spatialast",
    size="mini",
    stages=(),
    batch_size=2,
    weight_decay=5e-4,
    layer_decay=0.75,
    seed=0,
    label_mode="clean",
    evaluation_protocol="bat-encoder-continuous",
)


def published_json(name: str) -> dict:
    return json.loads((GOLDEN / f"param_groups_{name}.json").read_text(encoding="utf-8"))


# -- parameter groups ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["spatialast", "dspast"])
def test_parameter_groups_equal_the_published_grouping(name):
    golden = published_json(name)
    model = create_model(name, "base")
    groups = parameter_groups(model, weight_decay=5e-4, layer_decay=0.75, depth=12)
    # the per-parameter table under the published names
    names = {id(parameter): reference_key(key) for key, parameter in model.named_parameters()}
    table = {}
    for index, group in enumerate(groups):
        for parameter in group["params"]:
            layer = int(group["name"].split("_")[1])
            table[names[id(parameter)]] = (
                list(parameter.shape),
                layer,
                group["lr_scale"],
                group["weight_decay"],
                index,
            )
    expected = {
        row["name"]: (row["shape"], row["layer_id"], row["lr_scale"], row["weight_decay"], row["group"])
        for row in golden["parameters"]
    }
    assert sorted(table) == sorted(expected)
    for key, (shape, layer, scale, decay, group) in expected.items():
        got = table[key]
        assert (got[0], got[1], got[3], got[4]) == (shape, layer, decay, group), key
        assert got[2] == pytest.approx(scale, rel=1e-15, abs=0), key
        assert isinstance(got[2], float)
    # the 28 groups, in the published order
    assert len(groups) == len(golden["groups"]) == 28
    for group, published in zip(groups, golden["groups"]):
        assert group["name"] == published["name_in_published_code"]
        assert group["lr_scale"] == pytest.approx(published["lr_scale"], rel=1e-15, abs=0)
        assert group["weight_decay"] == published["weight_decay"]
        assert len(group["params"]) == published["n_tensors"]
        assert sum(parameter.numel() for parameter in group["params"]) == published["n_elements"]
    # frozen tensors get no group (the published frozen set, less the tensors seldkit computes or keeps as buffers)
    grouped = {id(parameter) for group in groups for parameter in group["params"]}
    frozen = {reference_key(key) for key, parameter in model.named_parameters() if id(parameter) not in grouped}
    assert frozen == {"pos_embed"}
    assert frozen <= {row["name"] for row in golden["frozen_parameters"]}


def test_optimizer_is_adamw_with_the_published_settings():
    golden = published_json("dspast")["optimizer"]
    model = create_model("spatialast", "mini")
    stage = Stage(name="s", epochs=2, warmup_epochs=1, lr=5e-4, loss_weights=(1.0, 1.0, 1.0))
    stub = SimpleNamespace(model=model, config=TrainConfig(**{**RECIPE, "betas": tuple(golden["betas"])}))
    optimizer = Trainer._new_optimizer(stub, stage)  # type: ignore[arg-type]
    assert isinstance(optimizer, torch.optim.AdamW)
    for group in optimizer.param_groups:
        assert list(group["betas"]) == golden["betas"]
        assert group["eps"] == golden["eps"]
        assert group["amsgrad"] is golden["amsgrad"]


# -- learning-rate schedule ------------------------------------------------------------------------------------------
SCRIPTS = [
    (name, script)
    for name in ("spatialast", "dspast")
    for script, values in published_json(name)["scripts"].items()
    if values.get("schedule_samples")
]


@pytest.mark.parametrize(("name", "script"), SCRIPTS)
def test_schedule_equals_the_published_samples(name, script):
    values = published_json(name)["scripts"][script]
    for epoch, expected in values["schedule_samples"]:
        got = learning_rate(
            epoch,
            peak=values["lr_peak"],
            warmup_epochs=values["warmup_epochs"],
            epochs=values["epochs"],
            minimum=values["min_lr"],
        )
        assert got == pytest.approx(expected, rel=1e-15, abs=0), (epoch, got, expected)


def test_trainer_step_sets_the_scheduled_rate_per_group():
    """Trainer.step evaluates the schedule at epoch + batch / steps_per_epoch, before the step, times lr_scale."""
    torch.manual_seed(0)
    model = create_model("spatialast", "mini")
    stage = Stage(name="s", epochs=3, warmup_epochs=1, lr=1e-3, loss_weights=(1.0, 1.0, 1.0))
    config = TrainConfig(**{**RECIPE, "min_lr": 2e-6})
    batch = {
        "waveform": torch.randn(2, 1, 8000) * 0.1,
        "reverb": torch.randn(2, 2, 1000) * 0.01,
        "sed": torch.zeros(2, 355),
        "distance": torch.tensor([1, 2]),
        "azimuth": torch.tensor([10, 200]),
        "elevation": torch.tensor([90, 100]),
    }
    trainer = SimpleNamespace(
        model=model,
        config=config,
        world=World(),
        device=torch.device("cpu"),
        progress=Progress(epoch=1, batch=3),
        train_set=None,
        checkpoint_path=Path("unused"),
        _batch=lambda dataset, indices: batch,
    )
    trainer.optimizer = Trainer._new_optimizer(trainer, stage)  # type: ignore[arg-type]
    model.train()
    Trainer.step(trainer, [0, 1], stage, 8)  # type: ignore[arg-type]
    expected = learning_rate(1 + 3 / 8, peak=1e-3, warmup_epochs=1, epochs=3, minimum=2e-6)
    for group in trainer.optimizer.param_groups:
        assert group["lr"] == expected * group["lr_scale"]
    # the very first iteration of a stage runs at rate 0
    trainer.progress = Progress()
    Trainer.step(trainer, [0, 1], stage, 8)  # type: ignore[arg-type]
    assert all(group["lr"] == 0.0 for group in trainer.optimizer.param_groups)


# -- AdaCos ----------------------------------------------------------------------------------------------------------
def adacos_head(golden, dtype: torch.dtype) -> AdaCos:
    head = AdaCos(16, 21).to(dtype).train()
    with torch.no_grad():
        head.W.copy_(torch.from_numpy(golden["W"]).to(dtype))
    return head


def test_adacos_constants_are_the_published_float32_values():
    golden = np.load(GOLDEN / "adacos.npz")
    assert float(AdaCos(16, 21).s) == float(golden["s0"])
    assert AdaCos(16, 21).s.dtype == torch.float32
    # README: C = 360 -> 8.320274353027344, C = 180 -> 7.336071491241455
    assert float(AdaCos(4, 360).s) == 8.320274353027344
    assert float(AdaCos(4, 180).s) == 7.336071491241455
    from seldkit.models.layers.adacos import QUARTER_PI

    assert QUARTER_PI * 4 == float(golden["pi"])


@pytest.mark.parametrize(("dtype", "suffix", "tolerance"), [(torch.float64, "", F64), (torch.float32, "_f32run", F32)])
@pytest.mark.parametrize("target_form", ["indices", "one_hot"])
def test_adacos_training_updates_equal_the_published(dtype, suffix, tolerance, target_form):
    golden = np.load(GOLDEN / "adacos.npz")
    head = adacos_head(golden, dtype)
    worst: dict[str, float] = {}

    def check(name: str, got, reference) -> None:
        worst[name] = max(worst.get(name, 0.0), deviation(got, reference))
        assert worst[name] <= tolerance, (name, worst[name])

    for step in range(golden["x"].shape[0]):
        check("s_before", head.s.item(), golden["s_before"][step])
        x = torch.from_numpy(golden["x"][step]).to(dtype).requires_grad_(True)
        one_hot = torch.from_numpy(golden["targets"][step]).to(dtype)
        target = torch.from_numpy(golden["labels"][step]) if target_form == "indices" else one_hot
        head.W.grad = None
        logits = head(x, target)
        loss = -(F.log_softmax(logits, dim=1) * one_hot).sum(dim=1).mean()
        loss.backward()
        check("s_after", head.s.item(), golden[f"s_after{suffix}"][step])
        check("scaled_logits", logits.detach().numpy(), golden[f"scaled_logits{suffix}"][step])
        check("loss", loss.item(), golden[f"loss{suffix}"][step])
        if dtype == torch.float64:  # the gradients are stored from the float64 run only
            check("grad_x", x.grad.numpy(), golden["grad_x"][step])
            check("grad_W", head.W.grad.numpy(), golden["grad_W"][step])
        else:
            check("grad_x", x.grad.numpy(), golden["grad_x"][step])
        # the loss as the trainer computes it from class indices: the same number
        check("loss", F.cross_entropy(logits.detach(), one_hot.argmax(dim=1)).item(), golden[f"loss{suffix}"][step])
    head.eval()
    cos_eval = head(torch.from_numpy(golden["x_eval"]).to(dtype), torch.from_numpy(golden["labels"][0]))
    check("cos_eval", cos_eval.detach().numpy(), golden[f"cos_eval{suffix}"])
    print(dtype, target_form, {name: f"{value:.1e}" for name, value in worst.items()})


@pytest.mark.parametrize(("dtype", "suffix", "tolerance"), [(torch.float64, "", F64), (torch.float32, "_f32run", F32)])
def test_adacos_soft_targets_equal_the_published(dtype, suffix, tolerance):
    golden = np.load(GOLDEN / "adacos.npz")
    head = adacos_head(golden, dtype)
    targets = torch.from_numpy(golden["soft_targets"]).to(dtype)
    logits = head(torch.from_numpy(golden["soft_x"]).to(dtype), targets)
    loss = -(F.log_softmax(logits, dim=1) * targets).sum(dim=1).mean()
    assert deviation(head.s.item(), golden[f"soft_s_after{suffix}"]) <= tolerance
    assert deviation(logits.detach().numpy(), golden["soft_scaled_logits"]) <= tolerance
    assert deviation(loss.item(), golden[f"soft_loss{suffix}"]) <= tolerance


def test_adacos_scale_uses_the_lower_median_and_the_quarter_pi_cap():
    """Two rows with angles either side of pi / 4: the lower one is the median (torch.median), and the cap binds."""
    from seldkit.models.layers.adacos import adaptive_scale

    cosine = torch.tensor([[math.cos(0.5), 0.0], [math.cos(1.2), 0.1]], dtype=torch.float64)
    target = torch.tensor([0, 0])
    scale = torch.tensor([2.0], dtype=torch.float64)
    b_avg = ((1 + math.exp(0.0)) + (1 + math.exp(0.2))) / 2  # targets count exp(0) = 1 each
    expected = math.log(b_avg) / (math.cos(0.5) + 1e-12)
    assert adaptive_scale(cosine, target, scale).item() == pytest.approx(expected, rel=1e-12)
    cosine[0, 0] = math.cos(1.0)  # both angles above pi / 4: the cap applies
    expected = math.log(b_avg) / (math.cos(float(np.float32(math.pi)) / 4) + 1e-12)
    assert adaptive_scale(cosine, target, scale).item() == pytest.approx(expected, rel=1e-12)


# -- loss combinations -----------------------------------------------------------------------------------------------
def loss_batch(golden, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    return {
        "sed": torch.from_numpy(golden["sed_targets"]).to(dtype),
        "distance": torch.from_numpy(golden["distance_target"]),
        "azimuth": torch.from_numpy(golden["azimuth_target"]),
        "elevation": torch.from_numpy(golden["elevation_target"]),
    }


@pytest.mark.parametrize(("dtype", "suffix", "tolerance"), [(torch.float64, "", F64), (torch.float32, "_f32run", F32)])
def test_spatialast_losses_equal_the_published(dtype, suffix, tolerance):
    golden = np.load(GOLDEN / "losses.npz")
    names = ("sed_logits", "distance_logits", "azimuth_logits", "elevation_logits")
    logits = [
        torch.from_numpy(golden[name if name == "sed_logits" else f"spatialast_{name}"]).to(dtype).requires_grad_(True)
        for name in names
    ]
    assert tuple(golden["spatialast_weights"][:3]) == (1250.0, 1.0, 2.0)
    losses = compute_losses(logits, loss_batch(golden, dtype), (1250.0, 1.0, 2.0))
    parts = {
        "sed": losses["sed"],
        "distance": losses["distance"],
        "total": losses["total"],
    }
    for part, value in parts.items():
        assert (
            deviation(
                value.item(),
                golden[f"spatialast_loss_{part}{suffix}" if part != "total" else f"spatialast_total{suffix}"],
            )
            <= tolerance
        ), part
    direction = golden[f"spatialast_loss_azimuth{suffix}"] + golden[f"spatialast_loss_elevation{suffix}"]
    assert deviation(losses["direction"].item(), direction) <= tolerance
    losses["total"].backward()
    if dtype == torch.float64:
        for name, tensor in zip(names, logits):
            assert deviation(tensor.grad.numpy(), golden[f"spatialast_grad_{name}"]) <= tolerance, name


@pytest.mark.parametrize(("dtype", "suffix", "tolerance"), [(torch.float64, "", F64), (torch.float32, "_f32run", F32)])
def test_dspast_losses_equal_the_published(dtype, suffix, tolerance):
    golden = np.load(GOLDEN / "losses.npz")
    batch = loss_batch(golden, dtype)
    for row, weights in enumerate(golden["dspast_weights"]):
        heads = [AdaCos(256, classes).to(dtype).train() for classes in (21, 360, 180)]
        for head, s_before in zip(heads, golden["dspast_s_before"]):
            assert head.s.item() == s_before
        sed = torch.from_numpy(golden["sed_logits"]).to(dtype).requires_grad_(True)
        cosines = [
            torch.from_numpy(golden[f"dspast_cos_{name}"]).to(dtype).requires_grad_(True)
            for name in ("distance", "azimuth", "elevation")
        ]
        targets = [batch["distance"], batch["azimuth"], batch["elevation"]]
        outputs = [sed] + [head.scaled(cosine, target) for head, cosine, target in zip(heads, cosines, targets)]
        losses = compute_losses(outputs, batch, tuple(float(weight) for weight in weights))
        assert deviation(losses["total"].item(), golden[f"dspast_total{suffix}"][row]) <= tolerance
        assert deviation([head.s.item() for head in heads], golden[f"dspast_s_after{suffix}"]) <= tolerance
        assert deviation(losses["sed"].item(), golden[f"dspast_loss_sed{suffix}"]) <= tolerance
        assert deviation(losses["distance"].item(), golden[f"dspast_loss_distance{suffix}"]) <= tolerance
        direction = golden[f"dspast_loss_azimuth{suffix}"] + golden[f"dspast_loss_elevation{suffix}"]
        assert deviation(losses["direction"].item(), direction) <= tolerance
        if golden["dspast_weight_names"][row] == "finetune-stage2.sh" and dtype == torch.float64:
            losses["total"].backward()
            assert deviation(sed.grad.numpy(), golden["dspast_grad_sed_logits"]) <= tolerance
            for name, cosine in zip(("distance", "azimuth", "elevation"), cosines):
                assert deviation(cosine.grad.numpy(), golden[f"dspast_grad_cos_{name}"]) <= tolerance, name


# -- training-time masks ---------------------------------------------------------------------------------------------
def small_encoder(name: str, branches: int):
    """The base-size token grid (1024 x 128 maps, 64 x 8 patches) with a narrow, one-block transformer."""
    from seldkit.models.config import load_model_config
    from seldkit.models.encoder import TokenEncoder

    config = load_model_config(name, "base", dim=32, heads=2, depth=1, drop_path=0.0)
    encoder = TokenEncoder(config, n_branches=branches)
    with torch.no_grad():  # every patch token becomes its position code, which identifies the patch
        encoder.patch_embed.proj.weight.zero_()
        encoder.patch_embed.proj.bias.zero_()
    return encoder


def captured_forward(encoder, maps):
    """The masked maps entering the patch embedding, and the token sequences entering the first block."""
    seen = {}
    hooks = [
        encoder.patch_embed.register_forward_pre_hook(lambda module, args: seen.setdefault("maps", args[0].clone())),
        encoder.blocks[0].register_forward_pre_hook(lambda module, args: seen.setdefault("tokens", args[0].clone())),
    ]
    encoder(maps, augment=True)
    for hook in hooks:
        hook.remove()
    return seen["maps"], seen["tokens"]


def kept_patches(encoder, tokens: torch.Tensor) -> list[list[int]]:
    """The patch indices of each sequence, recovered from the position codes."""
    table = encoder.pos_embed[0, 1:]
    patches = tokens[:, 3:]
    distances = torch.cdist(patches, table[None].expand(patches.shape[0], -1, -1))
    return distances.argmin(dim=2).tolist()


@pytest.mark.parametrize(("name", "branches"), [("spatialast", 1), ("dspast", 3)])
def test_training_masks_per_branch(name, branches):
    torch.manual_seed(3)
    encoder = small_encoder(name, branches)
    batch = 4
    maps = [torch.ones(batch, 1, 1024, 128) for _ in range(branches)]
    masked, tokens = captured_forward(encoder, maps)
    # SpecAugment: one frequency and one time interval per branch, shared by every example of the branch
    masked = masked.reshape(branches, batch, 1024, 128)
    intervals = []
    for branch in masked:
        assert all(torch.equal(branch[0], example) for example in branch)
        zero_bins = (branch[0] == 0).all(dim=0).nonzero().flatten().tolist()
        zero_frames = (branch[0] == 0).all(dim=1).nonzero().flatten().tolist()
        assert len(zero_bins) < 48 and len(zero_frames) < 192
        for run in (zero_bins, zero_frames):  # one contiguous interval each
            assert run == list(range(run[0], run[0] + len(run))) if run else True
        intervals.append((tuple(zero_bins), tuple(zero_frames)))
        assert int((branch[0] == 0).sum()) == 1024 * len(zero_bins) + 128 * len(zero_frames) - len(zero_bins) * len(
            zero_frames
        )
    if branches > 1:
        assert len(set(intervals)) == branches  # each branch its own intervals
    # patch masking: 3 class tokens + 48 x 6 = 288 patches, whole rows and columns, per example and per branch
    assert tokens.shape[1] == 3 + 288
    kept = kept_patches(encoder, tokens)
    draws = set()
    for patches in kept:
        assert len(set(patches)) == 288
        rows, columns = {p // 8 for p in patches}, {p % 8 for p in patches}
        assert len(rows) == 48 and len(columns) == 6
        assert set(patches) == {row * 8 + column for row in rows for column in columns}
        draws.add(frozenset(patches))
    assert len(draws) == batch * branches  # every example of every branch draws its own subset
    for index in range(branches):  # the class tokens pass unchanged
        token = getattr(encoder, encoder.token_names[index])[0]
        assert torch.equal(tokens[index * batch : (index + 1) * batch, :3], token.expand(batch, -1, -1))


def test_no_masks_without_augment():
    encoder = small_encoder("dspast", 3)
    maps = [torch.rand(2, 1, 1024, 128) for _ in range(3)]
    seen = {}
    encoder.blocks[0].register_forward_pre_hook(lambda module, args: seen.setdefault("tokens", args[0]))
    encoder(maps, augment=False)
    assert seen["tokens"].shape == (6, 3 + 512, 32)


def test_spec_augment_widths_and_starts_follow_torchaudio():
    from seldkit.models.layers.masking import mask_interval

    generator = torch.Generator().manual_seed(0)
    widths, starts = [], []
    for _ in range(4000):
        start, end = mask_interval(128, 48, generator=generator)
        widths.append(end - start)
        starts.append(start)
        assert 0 <= start and end <= 128
    assert min(widths) == 0 and max(widths) == 47  # floor(U * 48): 0 .. 47
    assert abs(np.mean(widths) - 23.5) < 1.0
    assert mask_interval(1024, 0) == (0, 0)
    # the draws: width = floor(U1 * p), start = floor(U2 * (n - U1 * p)), both U from torch.rand(1)
    generator = torch.Generator().manual_seed(1)
    u1, u2 = torch.rand(2, generator=generator)
    start, end = mask_interval(1024, 192, generator=torch.Generator().manual_seed(1))
    assert start == int(u2 * (1024 - u1 * 192)) and end - start == int(u1 * 192)


def test_patch_mask_counts_follow_the_published_rounding():
    from seldkit.models.layers.masking import patch_mask

    keep = patch_mask(64, 8, 5, time_ratio=0.25, freq_ratio=0.25)
    assert keep.shape == (5, 288)
    keep = patch_mask(64, 8, 2, time_ratio=0.3, freq_ratio=0.1)
    assert keep.shape == (2, int(64 * 0.7) * int(8 * 0.9))  # 44 x 7


# -- initialisation --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["spatialast", "dspast"])
@torch.no_grad()
def test_initialisation_follows_the_published_models(name):
    torch.manual_seed(0)
    model = create_model(name, "mini")
    encoder = model.encoder
    for block in encoder.blocks:
        for linear in (block.attn.qkv, block.attn.proj, block.mlp.fc1, block.mlp.fc2):
            assert float(linear.weight.std()) == pytest.approx(0.02, rel=0.1)
            assert not linear.bias.any()
        for norm in (block.norm1, block.norm2):
            assert torch.equal(norm.weight, torch.ones_like(norm.weight)) and not norm.bias.any()
    for token_name in encoder.token_names:
        assert float(getattr(encoder, token_name).std()) == pytest.approx(0.02, rel=0.2)
    weight = encoder.patch_embed.proj.weight
    bound = math.sqrt(6 / (weight.shape[0] + weight[0].numel()))  # Xavier-uniform on [dim, 16 * 16]
    assert float(weight.abs().max()) <= bound and float(weight.abs().max()) > 0.9 * bound
    heads = [model.head] + (
        [model.distance_head, model.azimuth_head, model.elevation_head] if name == "spatialast" else []
    )
    for head in heads:
        assert float(head.weight.std()) == pytest.approx(2e-5, rel=0.1)
    if name == "spatialast":
        assert not model.head.bias.any()  # the ViT's own head: bias 0
    else:
        assert float(model.head.bias.abs().max()) > 0  # a new nn.Linear in the published DSpAST: default bias
