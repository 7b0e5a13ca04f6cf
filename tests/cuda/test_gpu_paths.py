"""The CPU-only tricks stay on the CPU: what the GPU path takes instead, checked without one."""

import types

import numpy as np

from axonic.ops import im2col


def test_im2col_chunks_are_cache_sized_on_the_cpu_and_whole_batches_on_a_gpu():
    per_sample = 2_359_296  # a 32x32 image, 3x3 kernel, 64 channels, float32
    assert len(im2col._chunks(256, per_sample, np)) == 256  # one sample per chunk on the CPU
    fake_cupy = types.SimpleNamespace(__name__="cupy")
    gpu = im2col._chunks(256, per_sample, fake_cupy)
    assert len(gpu) == 3 and gpu[0] == (0, im2col.GPU_CHUNK_BYTES // per_sample)
    assert gpu[-1][1] == 256
