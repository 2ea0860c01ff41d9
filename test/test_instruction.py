"""What counts as an instruction, and when two mean the same scene goal (no ROS)."""

from __future__ import annotations

import pytest

from cliport_ros.instruction import InstructionError, check_instruction, same_instruction


def test_instruction_is_cleaned_or_refused_with_a_reason():
    assert check_instruction("  put the red  block\tin the bowl ") == "put the red block in the bowl"
    for text, reason in [("", "empty"), ("  \t", "empty"), ("x" * 201, "limit"), ("?? 42", "no words"),
                         ("put\x00 it", "control")]:
        with pytest.raises(InstructionError, match=reason):
            check_instruction(text)


def test_same_instruction_ignores_case_spacing_and_a_full_stop_only():
    assert same_instruction("Put the red blocks  in a green bowl.", "put the red blocks in a green bowl")
    assert not same_instruction("put the blue blocks in a green bowl", "put the red blocks in a green bowl")
