"""``cliport replay BAG``: perception_node's heightmaps of a recorded bag, and a dry-run decision; no robot.

Pictures go to ``--out``: ``heightmap_NNNN.png`` (the camera views over the
fused colour and height maps) per saved set, and with ``--instruct``
``affordance_NNNN.png`` (pick | place heat over the colour map). Nothing is
ever sent to an arm: the decision is only made and checked as policy_node
would check it before moving.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from cliport_ros.app.config import ReplayConfig
from cliport_ros.decision.config import PolicyNodeConfig
from cliport_ros.decision.gate import check_observed
from cliport_ros.decision.policy import Decision, Policy, RefusedError, accept
from cliport_ros.perception.bag import BagError, CameraBag, ReplayedSet, replay
from cliport_ros.perception.config import load_perception_config
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.perception.visualize import affordance_figure, heightmap_figure, save_rgb

log = logging.getLogger(__name__)


def dry_run(policy: Policy, heightmap: Heightmap, instruction: str,
            checks: PolicyNodeConfig) -> tuple[Decision | None, str]:
    """What policy_node would decide on ``heightmap`` and whether it would move: (the decision, or None if
    refused before deciding; "" if it would act, else the refusal), with policy_node's own checks."""
    try:
        decision = policy.decide(check_observed(heightmap, checks.min_observed), instruction)
    except RefusedError as err:  # too little seen, or a heightmap the policy cannot read
        return None, f"{err.reason.value}: {err}"
    try:
        accept(decision, checks.min_confidence, heightmap.observed if checks.refuse_unobserved else None)
    except RefusedError as err:
        return decision, f"{err.reason.value}: {err}"
    return decision, ""


def _decide(policy: Policy, replayed: ReplayedSet, cfg: ReplayConfig, out: Path) -> None:
    heightmap = replayed.heightmap
    assert heightmap is not None
    decision, refusal = dry_run(policy, heightmap, cfg.instruct, PolicyNodeConfig())
    if decision is None:
        print(f"set {replayed.index} (t={replayed.stamp:.3f} s): no decision, {refusal}")
        return
    path = out / f"affordance_{replayed.index:04d}.png"
    save_rgb(str(path), affordance_figure(heightmap, decision.pick_pixel, decision.place_pixel,
                                          decision.action.rotation, decision.pick_map, decision.place_map))
    pick, place = decision.action.pick_xyz, decision.action.place_xyz
    verdict = f"policy_node would refuse ({refusal})" if refusal else "policy_node would act (dry run: nothing moved)"
    print(f'set {replayed.index} (t={replayed.stamp:.3f} s) "{cfg.instruct}": pick ({pick[0]:.3f}, {pick[1]:.3f}, '
          f"{pick[2]:.3f}) pixel {list(decision.pick_pixel)} p={decision.pick_confidence:.3g}; place "
          f"({place[0]:.3f}, {place[1]:.3f}, {place[2]:.3f}) pixel {list(decision.place_pixel)} "
          f"p={decision.place_confidence:.3g}, rotation {decision.action.rotation:.2f} rad; {verdict} -> {path}")


def run(cfg: ReplayConfig) -> int:
    """Replay ``cfg.bag``; 0 when at least one set was fused, 1 when none was, 2 for a bag or policy that
    cannot be used."""
    config = load_perception_config(cfg.config)
    if config.pose_source == "tf":
        log.warning("%s takes camera poses from tf; replay uses the poses written in it", cfg.config)
    policy: Policy | None = None
    if cfg.instruct:  # before the bag: a missing checkpoint should not wait for a long replay to fail
        from cliport_ros.decision.policy import LearnedPolicy
        from cliport_ros.model.checkpoint import CheckpointError

        try:
            policy = LearnedPolicy.from_checkpoint(cfg.policy)
        except (CheckpointError, OSError) as err:
            print(f"cliport replay: cannot load policy {cfg.policy!r}: {err}", file=sys.stderr)
            return 2
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    drops: Counter[str] = Counter()
    fused, saved, last = 0, 0, None
    try:
        with CameraBag(cfg.bag, config.cameras) as bag:
            total = min(bag.set_count, cfg.max_sets) if cfg.max_sets else bag.set_count
            with tqdm(total=total, unit="set", desc=f"replay {Path(cfg.bag).name}") as bar:
                for replayed in replay(bag, config):
                    bar.update(1)
                    if replayed.heightmap is None:
                        drops[replayed.error] += 1
                    else:
                        if fused % cfg.every == 0:
                            _save(replayed, out)
                            saved += 1
                            if policy is not None and cfg.decide_on == "saved":
                                _decide(policy, replayed, cfg, out)
                        fused += 1
                        last = replayed
                    if cfg.max_sets and replayed.index + 1 >= cfg.max_sets:
                        break
    except BagError as err:
        print(f"cliport replay: {err}", file=sys.stderr)
        return 2
    if last is not None and (fused - 1) % cfg.every != 0:  # the last set's picture, even between strides
        _save(last, out)
        saved += 1
    if policy is not None and last is not None and cfg.decide_on == "last":
        _decide(policy, last, cfg, out)
    print(f"{fused + sum(drops.values())} matched sets: {fused} fused, {sum(drops.values())} dropped; "
          f"{saved} heightmap pictures in {out}/")
    for reason, count in drops.most_common():
        print(f"  dropped {count}: {reason}")
    if fused == 0:
        print("cliport replay: no set could be fused (reasons above)", file=sys.stderr)
        return 1
    return 0


def _save(replayed: ReplayedSet, out: Path) -> None:
    assert replayed.heightmap is not None and replayed.views is not None
    save_rgb(str(out / f"heightmap_{replayed.index:04d}.png"),
             heightmap_figure(replayed.heightmap, [v.rgb for v in replayed.views]))
