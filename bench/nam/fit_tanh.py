#!/usr/bin/env python3
"""Fits the rational tanh used by core/nam/simd.hpp (reproducibility only).

tanh(x) ~ x * P(x^2) / Q(x^2) on [0, 9], P of degree 6 and Q of degree 3 in
x^2 (Q(0) = 1), minimising the maximum absolute error: a linearised
least-squares fit (Loeb) with Lawson reweighting towards minimax, at 40
digits with mpmath (Debian: python3-mpmath). Prints the error and the
coefficients; the C++ rounds them to float.
"""
import mpmath as mp

mp.mp.dps = 40
NP, NQ = 7, 4
C = mp.mpf(9)
M = 500
xs = [C * (1 - mp.cos(mp.pi * (i + 0.5) / M)) / 2 for i in range(M)]  # Chebyshev nodes on [0, C]
xs = [x for x in xs if x > mp.mpf("1e-6")]


def poly(c, y):
    return sum(c[k] * y**k for k in range(len(c)))


q = [mp.mpf(1)] + [mp.mpf(0)] * (NQ - 1)
lawson = [mp.mpf(1)] * len(xs)
for it in range(40):
    A = mp.matrix(len(xs), NP + NQ - 1)
    b = mp.matrix(len(xs), 1)
    for r, x in enumerate(xs):
        y, t = x * x, mp.tanh(x)
        s = mp.sqrt(lawson[r]) / poly(q, y)
        for k in range(NP):
            A[r, k] = x * y**k * s
        for k in range(1, NQ):
            A[r, NP + k - 1] = -t * y**k * s
        b[r] = t * s
    sol = mp.qr_solve(A, b)[0]
    p = [sol[k] for k in range(NP)]
    q = [mp.mpf(1)] + [sol[NP + k - 1] for k in range(1, NQ)]
    errs = [abs(x * poly(p, x * x) / poly(q, x * x) - mp.tanh(x)) for x in xs]
    if it >= 5:
        total = sum(lawson[r] * errs[r] for r in range(len(xs)))
        lawson = [lawson[r] * errs[r] / total * len(xs) for r in range(len(xs))]

dense = [C * i / 20000 for i in range(1, 20001)]
print("max abs error (exact arithmetic):",
      mp.nstr(max(abs(x * poly(p, x * x) / poly(q, x * x) - mp.tanh(x)) for x in dense), 5))
print("P:", [mp.nstr(v, 17) for v in p])
print("Q:", [mp.nstr(v, 17) for v in q])
