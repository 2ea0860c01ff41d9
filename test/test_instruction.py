"""What counts as an instruction, and when two mean the same scene goal (no ROS)."""

from __future__ import annotations

import pytest

from cliport_ros.instruction import (
    InstructionError,
    TemplateError,
    check_instruction,
    load_templates,
    parse_fields,
    rephrase,
    same_instruction,
)


def test_instruction_is_cleaned_or_refused_with_a_reason():
    assert check_instruction("  put the red  block\tin the bowl ") == "put the red block in the bowl"
    for text, reason in [("", "empty"), ("  \t", "empty"), ("x" * 201, "limit"), ("?? 42", "no words"),
                         ("put\x00 it", "control")]:
        with pytest.raises(InstructionError, match=reason):
            check_instruction(text)


def test_same_instruction_ignores_case_spacing_and_a_full_stop_only():
    assert same_instruction("Put the red blocks  in a green bowl.", "put the red blocks in a green bowl")
    assert not same_instruction("put the blue blocks in a green bowl", "put the red blocks in a green bowl")


def test_goal_fields_are_read_back_from_a_sentence_written_by_the_template():
    assert parse_fields("put the {pick} blocks in a {place} bowl", "put the red blocks in a green bowl") == {
        "pick": "red", "place": "green"}
    # a repeated field must repeat its value (assembling-kits names the shape twice)
    kit = "put the {colour} {shape} in the {where}{shape} hole"
    assert parse_fields(kit, "put the red ring in the left ring hole") == {
        "colour": "red", "shape": "ring", "where": "left "}
    with pytest.raises(TemplateError):
        parse_fields(kit, "put the red ring in the left star hole")
    with pytest.raises(TemplateError):
        parse_fields("put the {pick} blocks in a {place} bowl", "stack the red blocks")


def test_rephrase_keeps_the_goal_fields_in_other_words():
    assert rephrase("put the red blocks in a green bowl", "put the {pick} blocks in a {place} bowl",
                    "the {place} bowl should get every {pick} block") == "the green bowl should get every red block"


def test_template_files_skip_comments_and_refuse_unknown_fields(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("# paraphrases\n\nplace the {pick} cubes into a {place} bowl\n{pick} blocks go in a {place} bowl\n")
    assert load_templates(str(good), ["pick", "place"]) == ["place the {pick} cubes into a {place} bowl",
                                                           "{pick} blocks go in a {place} bowl"]
    bad = tmp_path / "bad.txt"
    bad.write_text("put the {colour} block in a {place} bowl\n")
    with pytest.raises(TemplateError, match="colour"):
        load_templates(str(bad), ["pick", "place"])
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(TemplateError, match="no instruction templates"):
        load_templates(str(empty), ["pick", "place"])
