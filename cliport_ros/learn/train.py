"""``cliport train``: batched training with SE(2) augmentation, checkpoints, validation by rollouts."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from cliport_ros.learn.config import TrainConfig
from cliport_ros.learn.curve import save_curve
from cliport_ros.learn.data import Batches, DemoSampler, load_episodes
from cliport_ros.model.checkpoint import policy_from_payload, read_checkpoint, save_checkpoint
from cliport_ros.model.clip_backbone import fingerprint
from cliport_ros.model.config import preset
from cliport_ros.model.policy import CLIPortPolicy, count_parameters

log = logging.getLogger(__name__)

PRECISE_BN_BATCHES = 20
PROGRESS_EVERY = 10  # steps between progress-bar updates (reading the loss is a host sync on a GPU)


def train_device(name: str) -> torch.device:
    """``auto`` -> ``cuda:<LOCAL_RANK>`` when CUDA is available (one GPU per torchrun process), else CPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def distributed() -> tuple[int, int]:
    """(rank, world size); joins the process group when started by ``torchrun`` with more than one process.

    gloo on CPU, NCCL on GPUs. Every rank trains on its own samples;
    DistributedDataParallel averages the gradients, so the effective batch
    is ``batch_size`` x world size. Only rank 0 validates and writes files.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


@torch.no_grad()
def precise_batchnorm(policy: nn.Module, batches) -> None:
    """Set BatchNorm running statistics to the exact statistics training mode uses (PreciseBN).

    During training the running averages trail weights that keep moving, so
    eval-mode outputs drift from what the network learned; instead, with the
    final weights, the per-channel mean and *biased* variance each layer sees
    in training mode are averaged over a few training batches. Biased, not
    PyTorch's unbiased running estimate: at the 1/16 stages a batch holds few
    values per channel, the two differ by a few percent, and the deep decoder
    compounds that into logits far from what training produced. The frozen
    CLIP's statistics are left alone.
    """
    norms = {m: [] for m in policy.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and any(p.requires_grad for p in m.parameters())}

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], _: torch.Tensor) -> None:
        x = inputs[0].float()
        dims = [0, *range(2, x.dim())]
        norms[module].append((x.mean(dims), x.var(dims, unbiased=False)))

    hooks = [m.register_forward_hook(record) for m in norms]
    policy.train()
    try:
        for batch in batches:
            policy(batch)
    finally:
        for hook in hooks:
            hook.remove()
    for module, stats in norms.items():
        if stats:  # a layer the batches never reached keeps its statistics
            module.running_mean.copy_(torch.stack([m for m, _ in stats]).mean(0))
            module.running_var.copy_(torch.stack([v for _, v in stats]).mean(0))


def make_optimiser(policy: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam over the trainable parameters (the frozen encoders have none)."""
    return torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=lr)


def prepare_layout(policy: nn.Module, channels_last: bool) -> None:
    """Put every 4-D weight in channels_last layout (in place), or leave NCHW.

    The same outputs either way. Refused for networks with a strided 1x1 convolution of fewer than
    16 input channels (the tiny preset): on CPU, this torch build's channels_last backward of such a
    convolution corrupts the heap (``free(): invalid next size``).
    """
    if not channels_last:
        return
    unsafe = [name for name, m in policy.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
              and m.stride != (1, 1) and m.in_channels < 16 and any(p.requires_grad for p in m.parameters())]
    if unsafe:
        raise ValueError(f"channels_last is refused for this network: {unsafe[0]} is a strided 1x1 convolution "
                         "of fewer than 16 channels, whose channels_last backward corrupts memory on CPU")
    policy.to(memory_format=torch.channels_last)


def train_step(model: nn.Module, optimiser: torch.optim.Optimizer, batch: dict, channels_last: bool,
               timings: tuple[dict[str, list[float]], torch.device] | None = None
               ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One optimiser step on ``batch``; ``timings`` (lists per part, device) collects forward/backward/optimiser
    seconds for ``cliport bench train``, which times exactly this step."""
    if channels_last:
        batch = {**batch, "rgbd": batch["rgbd"].contiguous(memory_format=torch.channels_last)}
    clock = _Clock(timings)
    loss, metrics = model(batch)
    clock.lap("forward")
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    clock.lap("backward")
    optimiser.step()
    clock.lap("optimiser")
    return loss.detach(), metrics


class _Clock:
    """Laps of a training step, synchronised with the device so each part gets its own time."""

    def __init__(self, timings: tuple[dict[str, list[float]], torch.device] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, part: str) -> None:
        if self.timings is None:
            return
        times, device = self.timings
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        now = time.perf_counter()
        times[part].append(now - self.last)
        self.last = now


def train(cfg: TrainConfig, evaluate=None) -> Path:
    """Train (resuming from ``run_dir/last.pt`` if present); return the best checkpoint's path.

    ``evaluate(policy) -> score`` runs validation rollouts; without it the last checkpoint is the best.
    """
    device = train_device(cfg.device)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # before the process group: NCCL binds each rank to its GPU
        torch.backends.cudnn.benchmark = True  # fixed input shapes: pick the fastest kernels once
    rank, world = distributed()
    torch.manual_seed(cfg.seed)  # the same initial weights on every rank
    run_dir = cfg.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    last, best = run_dir / "last.pt", run_dir / "best.pt"
    episodes = load_episodes(Path(cfg.data) / f"{cfg.task}-train", limit=cfg.demos)
    start, best_score, resume_meta = 0, -1.0, {}
    if last.exists():
        payload = read_checkpoint(last)
        policy, resume_meta = policy_from_payload(payload, last), payload["meta"]
        start, best_score = int(resume_meta["step"]), float(resume_meta.get("best_score", -1.0))
        log.info("resuming %s at step %d", last, start)
    else:
        policy = CLIPortPolicy(preset(cfg.preset, clip_weights=cfg.clip_weights, text_encoder=cfg.text_encoder,
                                      streams=cfg.streams))
    policy.to(device)
    log.info("config: %s (device %s)", json.dumps(asdict(cfg)), device)
    total, trainable = count_parameters(policy)
    log.info("%d demos, %d steps; parameters %.1f M (%.1f M trainable)", len(episodes),
             sum(len(e) for e in episodes), total / 1e6, trainable / 1e6)
    sampler = DemoSampler(episodes, policy.cfg.n_rotations, augment=cfg.augment,
                          seed=cfg.seed + start + 100_003 * rank)  # each rank its own samples
    prepare_layout(policy, cfg.channels_last)
    optimiser = make_optimiser(policy, cfg.lr)
    if "optimiser" in resume_meta:
        optimiser.load_state_dict(resume_meta["optimiser"])
    model = (DistributedDataParallel(policy, device_ids=[device.index] if device.type == "cuda" else None)
             if world > 1 else policy)
    policy.train()
    main = rank == 0
    started, done = time.monotonic(), start
    batches = Batches(sampler, cfg.batch_size, device, background=device.type == "cuda")
    with tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, desc=f"train {cfg.task}",
              disable=not main) as bar, contextlib.closing(batches):
        for step in bar:
            loss, metrics = train_step(model, optimiser, batches.next(), cfg.channels_last)
            done = step + 1
            final = done == cfg.steps or _time_up(started, cfg.max_minutes, world, device)
            if main and (done % PROGRESS_EVERY == 0 or final):
                bar.set_postfix(loss=f"{float(loss):.3f}", **{k: f"{float(v):.3f}" for k, v in metrics.items()})
            validate = evaluate is not None and (final or (cfg.eval_every and done % cfg.eval_every == 0))
            if validate or final:
                precise_batchnorm(policy, [batches.next() for _ in range(PRECISE_BN_BATCHES)])
            if main and validate:
                score = float(evaluate(policy))
                policy.train()
                log.info("step %d: validation score %.1f", done, score)
                _append_curve(run_dir / "curve.jsonl", done, done * cfg.batch_size * world,
                              (time.monotonic() - started) / 60, score)
                save_curve(run_dir, f"{cfg.task}, {cfg.preset} preset, {len(episodes)} demos: validation score")
                if score >= best_score:  # a tie goes to the later, longer-trained weights
                    best_score = score
                    save_checkpoint(best, policy, {"step": done, "score": score, "config": asdict(cfg)})
            if main and (done % cfg.save_every == 0 or final):
                save_checkpoint(last, policy, {"step": done, "best_score": best_score,
                                               "optimiser": optimiser.state_dict(), "config": asdict(cfg)})
            if final:  # every rank leaves at the same step
                if main and done < cfg.steps:
                    log.info("stopping at step %d: the %g-minute budget is spent", done, cfg.max_minutes)
                break
    if main and (evaluate is None or not best.exists()):
        save_checkpoint(best, policy, {"step": done, "config": asdict(cfg)})
    if world > 1:
        log.info("rank %d of %d: trained weights %s", rank, world, weights_fingerprint(policy))
        dist.barrier()  # rank 0 has written its files
    return best


def _append_curve(path: Path, step: int, samples: int, minutes: float, score: float) -> None:
    """One learning-curve point (validation score against samples seen) per line of ``curve.jsonl``."""
    with path.open("a") as f:
        f.write(json.dumps({"step": step, "samples": samples, "minutes": round(minutes, 2), "score": score}) + "\n")


def _time_up(started: float, minutes: float, world: int, device: torch.device) -> bool:
    """Whether the budget is spent; under DDP every rank stops at the same step (the slowest's clock decides)."""
    up = minutes > 0 and time.monotonic() - started >= minutes * 60
    if world > 1 and minutes > 0:
        flag = torch.tensor([float(up)], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        up = bool(flag.item())
    return up


def weights_fingerprint(policy: CLIPortPolicy) -> str:
    """sha256 of the trainable weights: equal on every rank after synchronised training."""
    return fingerprint(nn.ParameterList([p for p in policy.parameters() if p.requires_grad]))
