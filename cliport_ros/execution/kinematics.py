"""Forward and inverse kinematics of the arm's tool frame, with Pinocchio (no ROS, no simulator).

Orientation convention (shared with the simulator, see ``arms.tool_down_quaternion``):
the tool's z-axis points straight down, turned ``yaw`` rad about world +z.
Positions are metres and rotations are matrices in the robot base frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pinocchio as pin
from scipy.spatial.transform import Rotation

from cliport_ros.execution.arms import ArmProfile, tool_down_quaternion

POSITION_TOLERANCE = 1e-3  # metres: an IK answer further off than this is an IKError
ANGLE_TOLERANCE = math.radians(1.0)
_STOP = 1e-6  # iterate until the twist error is this small, well inside the tolerances
_DAMPING = 1e-6  # keeps the step finite next to singularities without slowing convergence elsewhere
_MAX_STEP = 0.3  # rad per iteration: large Newton steps near singularities jump between IK branches
_MAX_ITERATIONS = 200
# rad/s^2 for an arm whose profile states no acceleration limits. Universal Robots publish none (the joints
# are torque limited); ur_moveit_config states 5 rad/s^2 for every joint for time parameterisation.
DEFAULT_ACCELERATION = 5.0


class IKError(ValueError):
    """No joint configuration puts the tool at the target within the tolerances."""


def tool_down_rotation(yaw: float) -> np.ndarray:
    """Rotation matrix (3, 3) of a downward-pointing tool turned ``yaw`` rad about world +z."""
    return Rotation.from_quat(tool_down_quaternion(yaw)).as_matrix()


class ArmKinematics:
    """Kinematics of one arm's actuated joints (fingers locked) up to its tool frame.

    Holds one Pinocchio ``Data`` buffer, so one instance must not be used
    from two threads at once.
    """

    def __init__(self, urdf: str, tool_frame: str, joint_names: Sequence[str] | None = None,
                 home: Sequence[float] | None = None,
                 ik_lower: Sequence[float] | None = None, ik_upper: Sequence[float] | None = None) -> None:
        """``joint_names``: the arm joints in URDF order; every other movable joint is locked at zero.
        None takes every movable joint (an arm without fingers in its URDF).

        ``ik_lower``/``ik_upper`` narrow the URDF limits for IK only, to keep
        solutions in one family (the UR5's ±2π joints allow several).
        ``home`` is the second IK start when the seed does not converge.
        """
        full = pin.buildModelFromUrdf(urdf)
        joint_names = list(full.names)[1:] if joint_names is None else list(joint_names)
        unknown = [n for n in joint_names if not full.existJointName(n)]
        if unknown:
            raise ValueError(f"{urdf} has no joints {unknown}; it has {list(full.names)[1:]}")
        locked = [full.getJointId(n) for n in list(full.names)[1:] if n not in joint_names]
        self.model = pin.buildReducedModel(full, locked, pin.neutral(full)) if locked else full
        if tuple(self.model.names)[1:] != tuple(joint_names) or self.model.nq != len(joint_names):
            raise ValueError(f"joints {list(joint_names)} must be 1-dof and in URDF order "
                             f"{list(self.model.names)[1:]}")
        if not self.model.existFrame(tool_frame):
            raise ValueError(f"{urdf} has no frame {tool_frame!r}")
        self.data = self.model.createData()
        self.tool_frame = tool_frame
        self._tool = self.model.getFrameId(tool_frame)
        self.joint_names: tuple[str, ...] = tuple(joint_names)
        self.lower = np.array(self.model.lowerPositionLimit, dtype=float)
        self.upper = np.array(self.model.upperPositionLimit, dtype=float)
        self.velocity_limits = np.array(self.model.velocityLimit, dtype=float)
        # A URDF states no acceleration limits; an arm profile gives the real arm's (``narrow``).
        self.acceleration_limits = np.full(len(joint_names), DEFAULT_ACCELERATION)
        self.jerk_limits: np.ndarray | None = None  # nor jerk limits: only where an arm's maker publishes them
        self.ik_lower = self.lower if ik_lower is None else np.maximum(self.lower, ik_lower)
        self.ik_upper = self.upper if ik_upper is None else np.minimum(self.upper, ik_upper)
        self.home = None if home is None else np.asarray(home, dtype=float)

    @classmethod
    def from_profile(cls, profile: ArmProfile) -> ArmKinematics:
        full = pin.buildModelFromUrdf(profile.urdf)
        arm = [full.names[j] for j in range(1, full.njoints) if full.names[j] not in profile.finger_joints]
        # The profile's IK bounds list the arm joints first, then any fingers.
        kin = cls(profile.urdf, profile.tool_link, arm, profile.home,
                  profile.ik_lower and profile.ik_lower[:len(arm)], profile.ik_upper and profile.ik_upper[:len(arm)])
        kin.narrow(profile.lower, profile.upper, profile.max_velocity, profile.max_acceleration, profile.max_jerk)
        return kin

    def narrow(self, lower: Sequence[float] | None, upper: Sequence[float] | None,
               max_velocity: Sequence[float] | None, max_acceleration: Sequence[float] | None = None,
               max_jerk: Sequence[float] | None = None) -> None:
        """Keep within a real arm's published limits as well as the URDF's (None: the URDF's stand)."""
        if lower is not None:
            self.lower = np.maximum(self.lower, lower)
            self.ik_lower = np.maximum(self.ik_lower, lower)
        if upper is not None:
            self.upper = np.minimum(self.upper, upper)
            self.ik_upper = np.minimum(self.ik_upper, upper)
        if max_velocity is not None:
            self.velocity_limits = np.minimum(self.velocity_limits, max_velocity)
        if max_acceleration is not None:
            self.acceleration_limits = np.asarray(max_acceleration, dtype=float)[:len(self.joint_names)].copy()
        if max_jerk is not None:
            self.jerk_limits = np.asarray(max_jerk, dtype=float)[:len(self.joint_names)].copy()

    def fk(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tool position (3,) and rotation matrix (3, 3) in the base frame at joints ``q`` (J,)."""
        pin.forwardKinematics(self.model, self.data, np.asarray(q, dtype=float))
        placement = pin.updateFramePlacement(self.model, self.data, self._tool)
        return placement.translation.copy(), placement.rotation.copy()

    def ik(self, xyz: Sequence[float], yaw: float, seed: np.ndarray) -> np.ndarray:
        """Joints (J,) putting the tool at ``xyz`` pointing down turned ``yaw``, near ``seed``.

        Damped least squares on the SE(3) log error, clamped to the IK
        limits, from ``seed``; if that fails, from the home pose and from
        that with the wrist at either end of its range. The first start that
        converges wins, so the answer is the one the seed leads to where
        there is one. Joints with more than a full turn of range are then
        moved by whole turns to lie nearest the seed (the same tool pose,
        less motion). Raises IKError when no start gets within 1 mm and 1°.
        """
        target = pin.SE3(tool_down_rotation(yaw), np.asarray(xyz, dtype=float))
        seed = np.asarray(seed, dtype=float)
        starts = [seed] if self.home is None else [seed, self.home]
        # The descent from the seed turns the wrist the short way, which a limited wrist may not
        # allow (the Franka's ±166°): also start from each end of the wrist's range.
        for end in (self.ik_lower[-1], self.ik_upper[-1]):
            starts.append(np.append(starts[-1][:-1], end))
        best: tuple[float, float, np.ndarray] | None = None
        for start in starts:
            q = self._solve(target, start)
            position, angle = self._residual(q, target)
            if position <= POSITION_TOLERANCE and angle <= ANGLE_TOLERANCE:
                return self._nearest_turn(q, seed)
            if best is None or (position, angle) < best[:2]:
                best = (position, angle, q)
        position, angle, q = best
        at_limit = [n for n, v, lo, hi in zip(self.joint_names, q, self.ik_lower, self.ik_upper, strict=True)
                    if v <= lo + 1e-6 or v >= hi - 1e-6]
        limit = f"; stopped at the limit of {', '.join(at_limit)}" if at_limit else ""
        raise IKError(f"no IK solution for the tool at ({xyz[0]:.3f}, {xyz[1]:.3f}, {xyz[2]:.3f}) m, "
                      f"yaw {math.degrees(yaw):.1f} deg: residual {position * 1e3:.1f} mm, "
                      f"{math.degrees(angle):.1f} deg{limit}")

    def _solve(self, target: pin.SE3, start: np.ndarray) -> np.ndarray:
        q = np.clip(start, self.ik_lower, self.ik_upper)
        eye = np.eye(6)
        for _ in range(_MAX_ITERATIONS):
            pin.computeJointJacobians(self.model, self.data, q)  # also the forward kinematics
            error_pose = pin.updateFramePlacement(self.model, self.data, self._tool).actInv(target)
            error = pin.log6(error_pose).vector
            if error @ error < _STOP**2:
                break
            # Jacobian of log6(current^-1 * target) in q (the Pinocchio IK example's form).
            jacobian = pin.Jlog6(error_pose.inverse()) @ pin.getFrameJacobian(
                self.model, self.data, self._tool, pin.LOCAL)
            step = jacobian.T @ np.linalg.solve(jacobian @ jacobian.T + _DAMPING * eye, error)
            largest = np.abs(step).max()
            if largest > _MAX_STEP:
                step *= _MAX_STEP / largest
            moved = np.clip(q + step, self.ik_lower, self.ik_upper)
            if np.abs(moved - q).max() < 1e-12:  # pinned against a limit: no progress possible
                break
            q = moved
        return q

    def _residual(self, q: np.ndarray, target: pin.SE3) -> tuple[float, float]:
        """Position (m) and orientation (rad) distance of the tool at ``q`` from ``target``."""
        xyz, rotation = self.fk(q)
        return (float(np.linalg.norm(xyz - target.translation)),
                float(np.linalg.norm(pin.log3(rotation.T @ target.rotation))))

    def _nearest_turn(self, q: np.ndarray, seed: np.ndarray) -> np.ndarray:
        turns = np.round((seed - q) / (2 * math.pi))
        shifted = q + 2 * math.pi * turns
        inside = (shifted >= self.ik_lower) & (shifted <= self.ik_upper)
        return np.where(inside, shifted, q)
