"""The CuPy branches of axonic.cuda, run against the fake CuPy of fake_cupy.py.

The fake computes nothing: these tests check that axonic.cuda asks CuPy for the right
things (pool readings, seeds per device, allocator, events); the real CuPy runs them in
the cuda test mode on a GPU machine.
"""

import pytest

import axonic
import axonic.cuda as cuda


def test_device_queries_use_cupy_runtime(fake_cupy):
    assert cuda.is_available() and cuda.is_initialized()
    assert cuda.device_count() == 2
    assert cuda.current_device() == 0
    cuda.set_device("cuda:1")
    assert cuda.current_device() == 1
    with cuda.device(0):
        assert cuda.current_device() == 0
    assert cuda.current_device() == 1
    assert cuda.get_device_name(0) == "Fake GPU 0"
    assert cuda.get_device_properties(axonic.device("cuda:1"))["totalGlobalMem"] == 80 << 30
    cuda.synchronize()
    assert fake_cupy.cuda.runtime.synchronized == [1]


def test_a_device_that_does_not_exist_is_named(fake_cupy):
    with pytest.raises(ValueError, match=r"axonic\.cuda\.set_device: device 5 does not exist "
                                         r"\(there are 2 GPUs\)"):
        cuda.set_device(5)
    with pytest.raises(ValueError, match=r"synchronize: expected a cuda device, got 'cpu'"):
        cuda.synchronize("cpu")


def test_memory_readings_come_from_the_pool(fake_cupy):
    pool = fake_cupy.get_default_memory_pool()
    pool.malloc(1000)
    pool.free(400)
    assert cuda.memory_allocated() == 600
    assert cuda.memory_reserved() == 1000
    cuda.empty_cache()
    assert pool.freed_all == 1 and fake_cupy.get_default_pinned_memory_pool().freed_all == 1
    assert cuda.memory_reserved() == 600


def test_peak_memory_is_tracked_through_the_allocator(fake_cupy):
    pool = fake_cupy.get_default_memory_pool()
    cuda.reset_peak_memory_stats()
    malloc = fake_cupy.allocator[0]  # what CuPy now calls for every new array
    assert malloc is not None
    malloc(5000)
    pool.free(5000)
    malloc(100)
    assert cuda.memory_allocated() == 100
    assert cuda.max_memory_allocated() == 5000
    assert cuda.max_memory_reserved() == 5000
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == 100


def test_seeding_reaches_cupy_random_on_the_right_devices(fake_cupy):
    cuda.manual_seed(7)
    assert fake_cupy.seeds == [(0, 7)]
    cuda.manual_seed_all(9)
    assert fake_cupy.seeds[1:] == [(0, 9), (1, 9)]
    assert cuda.initial_seed() == 9


def test_rng_state_round_trips_through_the_seed(fake_cupy):
    cuda.manual_seed(2**40 + 5)
    state = cuda.get_rng_state()
    assert state.dtype == axonic.backend.resolve_dtype("uint8") and state.shape == (8,)
    cuda.manual_seed(1)
    cuda.set_rng_state(state)
    assert fake_cupy.seeds[-1] == (0, 2**40 + 5)
    assert len(cuda.get_rng_state_all()) == 2


def test_events_and_streams_wrap_cupy(fake_cupy):
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    s = cuda.Stream()
    with cuda.stream(s):
        assert s.stream.entered == 1
    start.record()
    end.record(s)
    end.event.time = 2.5
    assert start.elapsed_time(end) == 2.5
    assert end.event.recorded_on is s.stream and end.query()
    s.wait_event(start)
    assert s.stream.waited == [start.event]
    s.wait_stream(cuda.current_stream())
    assert len(s.stream.waited) == 2
    assert cuda.default_stream().stream is fake_cupy.cuda.Stream.null
