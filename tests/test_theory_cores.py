"""rfloc.theory.cores: rows split over threads give exactly the unsplit result."""

import jax
import jax.numpy as jnp
import numpy as np

from rfloc.theory.cores import split_rows, workers_for


def test_split_equals_one_call_for_any_row_count():
    calls = []

    @jax.jit
    def run(x, keys):
        return x * 2.0 + jax.vmap(lambda k: jax.random.normal(k, ()))(keys)[:, None]

    def counted(x, keys):
        calls.append(x.shape[0])
        return run(x, keys)

    for rows in (1, 2, 5, 8):
        x = jnp.arange(rows * 3, dtype=jnp.float32).reshape(rows, 3)
        keys = jax.random.split(jax.random.key(0), rows)
        whole = np.asarray(run(x, keys))
        for workers in (1, 2, 3):
            calls.clear()
            np.testing.assert_array_equal(np.asarray(split_rows(counted, x, keys, workers=workers)), whole)
            # equal chunks (the last row repeated as padding), so one compiled shape per call
            assert len(set(calls)) == 1 and sum(calls) >= rows


def test_workers_are_at_least_one_and_at_most_the_rows():
    assert workers_for(1) == 1
    assert 1 <= workers_for(1000) <= 1000
