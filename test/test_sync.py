import pytest

from cliport_ros.perception.sync import ApproximateSync


def test_releases_a_set_once_every_stream_is_within_slop():
    sync = ApproximateSync(["a", "b", "c"], slop=0.01)
    assert sync.add("a", 1.000, "a1") is None
    assert sync.add("b", 1.004, "b1") is None
    assert sync.add("c", 1.008, "c1") == {"a": "a1", "b": "b1", "c": "c1"}


def test_never_releases_a_set_wider_than_slop():
    sync = ApproximateSync(["a", "b"], slop=0.01)
    sync.add("a", 1.0, "a1")
    assert sync.add("b", 1.5, "b1") is None


def test_each_message_is_used_once_and_older_ones_are_dropped():
    sync = ApproximateSync(["a", "b"], slop=0.01)
    sync.add("a", 1.0, "a1")
    assert sync.add("b", 1.0, "b1") is not None
    assert sync.add("b", 1.0, "b1-again") is None  # a1 was consumed


def test_picks_the_nearest_messages_when_frames_arrive_out_of_order():
    sync = ApproximateSync(["color", "depth"], slop=0.01)
    sync.add("color", 1.0, "c1")
    sync.add("color", 2.0, "c2")
    assert sync.add("depth", 2.001, "d2") == {"color": "c2", "depth": "d2"}
    assert sync.add("depth", 1.0, "d1") is None  # c1 is older than the released set: gone


def test_bad_arguments():
    with pytest.raises(ValueError):
        ApproximateSync([], slop=0.1)
    with pytest.raises(ValueError):
        ApproximateSync(["a"], slop=0)
    with pytest.raises(KeyError):
        ApproximateSync(["a"], slop=0.1).add("b", 0.0, None)
