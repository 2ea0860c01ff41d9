"""Small ElementTree helpers shared by the URDF, world and model writers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    """A child element with optional text."""
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def sdf_pose(position: Sequence[float], rotation: np.ndarray | Sequence[float]) -> str:
    """An SDF ``<pose>`` text, x y z roll pitch yaw (extrinsic x-y-z, rad), from a 3 x 3 rotation or an
    (x, y, z, w) quaternion."""
    r = np.asarray(rotation, dtype=float)
    rot = Rotation.from_matrix(r) if r.shape == (3, 3) else Rotation.from_quat(r)
    return " ".join(f"{v:.9g}" for v in (*position, *rot.as_euler("xyz")))


def to_text(root: ET.Element) -> str:
    """The document as indented XML with a declaration."""
    ET.indent(root)
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
