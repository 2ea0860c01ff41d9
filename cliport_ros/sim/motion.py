"""The simulated arm driven as the product drives a real one: the executor's plans, supervised, in PyBullet.

``SimMotion.execute`` plans an action with ``execution/planner.py`` (Pinocchio
IK, the same segments executor_node sends) and runs it with
``execution/supervisor.py``'s ``SegmentSupervisor`` against :class:`SimArm`,
which follows each trajectory in physics time as a joint trajectory
controller would and feels contacts, so a descent marked ``until_contact``
stops on the object. Collection, evaluation and the oracle therefore measure
the motion that is deployed. ``sim_node`` follows the executor's trajectories
with the same :class:`TrajectoryFollower`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from cliport_ros.execution.actions import PickPlace
from cliport_ros.execution.arms import ArmProfile
from cliport_ros.execution.collision import ClearanceConfig, SceneChecker, held_height
from cliport_ros.execution.kinematics import ArmKinematics
from cliport_ros.execution.planner import PlanError, PlannerConfig, Segment, joint_move, plan
from cliport_ros.execution.supervisor import MotionError, SegmentSupervisor, SupervisorConfig
from cliport_ros.execution.trajectory import Trajectory
from cliport_ros.perception.heightmap import Heightmap
from cliport_ros.sim.robots import Arm
from cliport_ros.sim.scene import TabletopSim

log = logging.getLogger(__name__)

POLL_STEPS = 2  # physics steps between the supervisor's checks: a touch is felt within 4 ms at 480 Hz


class TrajectoryFollower:
    """Commands an arm along the latest trajectory it was given, as ros2_control's joint trajectory controller
    does: a new trajectory replaces the old one and starts from where the arm is; after the last point the
    motors hold it."""

    def __init__(self, arm: Arm) -> None:
        self.arm = arm
        self.trajectory: Trajectory | None = None
        self._started = 0.0
        self._start_q = np.zeros(len(arm.joints))

    def start(self, trajectory: Trajectory, now: float) -> None:
        """Follow ``trajectory`` (any joint order; every arm joint named) from time ``now``; ValueError if a
        joint is missing."""
        self.trajectory = trajectory.reordered(self.arm.joint_names)
        self._started, self._start_q = now, self.arm.joint_positions()

    def step(self, now: float) -> None:
        """Command the position the trajectory gives for ``now``; call before each physics step."""
        if self.trajectory is None:
            return
        elapsed = now - self._started
        self.arm.command(self.trajectory.sample(elapsed, self._start_q))
        if elapsed > self.trajectory.duration:
            self.trajectory = None


class SimArm:
    """A simulated arm as the segment supervisor sees a real one (``ArmIO``), and its clock (``Clock``):
    sleeping advances physics, following the trajectory last sent."""

    def __init__(self, sim: TabletopSim) -> None:
        self.sim = sim
        self.follower = TrajectoryFollower(sim.arm)
        self.time = 0.0
        self.released_holding = False  # something was held when the gripper was last opened

    # -- ArmIO --
    def send(self, trajectory: Trajectory) -> None:
        self.follower.start(trajectory, self.time)

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        states = self.sim.bullet.getJointStates(self.sim.arm.body, self.sim.arm.joints)
        return np.array([s[0] for s in states]), np.array([s[1] for s in states])

    def grip(self, close: bool) -> bool:
        if close:
            return self.sim.grip()
        self.released_holding = self.sim.arm.held is not None
        self.sim.release()
        return True

    def touching(self) -> bool:
        return bool(self.sim.arm.contacts())

    # -- Clock --
    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        for _ in range(max(1, round(seconds / self.sim.dt))):
            self.follower.step(self.time)
            self.sim.bullet.stepSimulation()
            self.time += self.sim.dt


@dataclass
class SimMotion:
    """Carries out pick-and-places and pushes on one simulator with the product's planner and supervisor."""

    sim: TabletopSim
    supervision: SupervisorConfig = field(default_factory=SupervisorConfig)
    clearance: ClearanceConfig = field(default_factory=ClearanceConfig)
    _models: dict[ArmProfile, tuple[ArmKinematics, SceneChecker]] = field(default_factory=dict)

    def _model(self) -> tuple[ArmKinematics, SceneChecker]:
        """The mounted arm and tool's kinematics and collision model (built once per profile: a tool change
        swaps them)."""
        profile = self.sim.arm.profile
        if profile not in self._models:
            kin = ArmKinematics.from_profile(profile)
            self._models[profile] = kin, SceneChecker(profile, kin.joint_names, self.clearance)
        return self._models[profile]

    def execute(self, action: PickPlace, config: PlannerConfig | None = None,
                heightmap: Heightmap | None = None) -> bool:
        """Plan ``action`` as executor_node would (a push with a spatula mounted), check it against the table
        and ``heightmap`` (what the cameras saw; none for the oracle's own moves), and run it; True when it
        ran to its end (a pick-and-place: with the object held until it was released at the place).

        An action the planner refuses (outside the workspace, out of reach, too close to the scene) moves
        nothing; a failure while moving (nothing held after the grip, a deviation, a timeout) stops the arm,
        as on a real one, and a failed grip first goes back up and home.
        """
        config = config or PlannerConfig()
        (kin, checker), profile = self._model(), self.sim.arm.profile
        arm = SimArm(self.sim)
        start, _ = arm.state()
        workspace = self.sim.perception.workspace
        try:
            segments = plan(action, kin, profile, start, workspace, config)
            if heightmap is None:
                checker.set_table(workspace.z_min)
            else:
                checker.set_scene(heightmap)
            checker.check(segments, start, held_height(action.pick_xyz[2], profile, workspace.z_min))
        except PlanError as err:
            log.debug("not executed: %s", err)
            return False
        home = np.asarray(profile.home, dtype=float)

        def home_from(q: np.ndarray) -> Segment:
            return Segment("home", joint_move(kin, q, home, config))

        supervisor = SegmentSupervisor(arm, self.supervision, home_from, poll=POLL_STEPS * self.sim.dt, clock=arm)
        try:
            supervisor.run(segments, start)
        except MotionError as err:
            log.debug("execution failed: %s", err)
            return False
        finally:
            self.sim.settle(0.2)
            log.debug("ended on contact: %s", ", ".join(supervisor.touched) or "none")
        return profile.gripper == "spatula" or arm.released_holding
