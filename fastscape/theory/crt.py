"""Exact big integers from residues modulo word-size primes (Chinese remaindering).

Used where counts exceed int64: a kernel counts modulo several 31-bit primes, and
:func:`crt_combine` rebuilds the exact Python integers (Garner's mixed-radix
digits, then a pairwise product tree).
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=8)
def primes_below(n: int, count: int) -> tuple:
    """The ``count`` largest primes below n (n <= 2**32), by a numpy sieve + trial division.

    Examples
    --------
    >>> from fastscape.theory.crt import primes_below
    >>> primes_below(20, 3)
    (19, 17, 13)
    """
    root = int(n**0.5) + 1
    sieve = np.ones(root + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(root**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = False
    small = np.flatnonzero(sieve).astype(np.int64)
    out: list[int] = []
    hi = n - 1
    while len(out) < count:
        cand = np.arange(hi, max(hi - 4000, 1), -1, dtype=np.int64)
        div = cand[:, None] % small[None, :] == 0
        ok = ~np.any(div & (cand[:, None] != small[None, :]), axis=1)
        out.extend(int(c) for c in cand[ok] if c > 1)
        hi -= 4000
    return tuple(out[:count])


def primes_for(bound: int) -> tuple:
    """31-bit primes whose product exceeds ``bound`` (values in [0, bound] are then exact).

    Examples
    --------
    >>> from fastscape.theory.crt import primes_for
    >>> len(primes_for(2**100))
    4
    """
    return primes_below(2**31, int(bound).bit_length() // 30 + 1)


def crt_combine(res: np.ndarray, primes) -> list[int]:
    """The integers x[k] in [0, prod(primes)) with x[k] = res[i, k] mod primes[i].

    res (n, L) int64 residues (each < 2**31), primes (n,) distinct primes < 2**31.

    Examples
    --------
    >>> import numpy as np
    >>> from fastscape.theory.crt import crt_combine
    >>> crt_combine(np.array([[2, 0], [3, 4]]), (5, 7))
    [17, 25]
    """
    from ..kernels.counting import garner_digits

    res = np.ascontiguousarray(res, dtype=np.int64)
    n = len(primes)
    pr = np.array(primes, dtype=np.int64)
    inv = np.ones((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(i):
            inv[j, i] = pow(int(primes[j]), -1, int(primes[i]))
    digits = np.empty_like(res)
    garner_digits(res, pr, inv, digits)
    # combine the digits pairwise up a tree: (value, radix) pairs, radix = product of primes
    vals = [digits[i].astype(object) for i in range(n)]
    radix = [int(p_) for p_ in primes]
    while len(vals) > 1:
        nv, nr = [], []
        for i in range(0, len(vals) - 1, 2):
            nv.append(vals[i] + radix[i] * vals[i + 1])
            nr.append(radix[i] * radix[i + 1])
        if len(vals) % 2:
            nv.append(vals[-1])
            nr.append(radix[-1])
        vals, radix = nv, nr
    return [int(v) for v in vals[0].tolist()]
