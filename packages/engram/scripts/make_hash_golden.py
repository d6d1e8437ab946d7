"""Step 2 of the hash golden: an independent Python implementation of DESIGN.md's hash.

Reads test/golden/hash-input.json (constants from the TS build + seeded grids), checks that the primes are
the consecutive primes >= tableRows in (layer, stencil, head) order and that the multipliers are odd, then
computes every row id and writes test/golden/hash.json.
Run: /usr/bin/python3 scripts/make_hash_golden.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
M32 = 0xFFFFFFFF
DELTA = {"L": (0, -1), "U": (-1, 0), "UL": (-1, -1), "UR": (-1, 1)}


def is_prime(n):
    if n < 2:
        return False
    f = 2
    while f * f <= n:
        if n % f == 0:
            return False
        f += 1
    return True


def main():
    cases = json.load(open(os.path.join(HERE, "..", "test", "golden", "hash-input.json")))
    for c in cases:
        cfg = c["config"]
        stencils, K, Le = cfg["stencils"], cfg["heads"], len(cfg["layers"])
        S, J = len(stencils), c["keyWidth"]
        expect, p = [], cfg["tableRows"]
        while len(expect) < Le * S * K:
            if is_prime(p):
                expect.append(p)
            p += 1
        assert c["primes"] == expect, "primes are not the consecutive primes >= tableRows"
        assert all(m % 2 == 1 and 0 <= m <= M32 for m in c["multipliers"])
        B, H, W = c["shape"]
        pad, codes = c["pad"], c["codes"]
        ids = []
        for b in range(B):
            for r in range(H):
                for col in range(W):
                    pos = r * W + col
                    for l in range(Le):
                        for s, st in enumerate(stencils):
                            key = []
                            for n in st:
                                if isinstance(n, str):
                                    rr, cc = r + DELTA[n][0], col + DELTA[n][1]
                                    ok = rr >= 0 and 0 <= cc < W
                                    key.append(codes[b * H * W + rr * W + cc] if ok else pad)
                                else:
                                    q = pos - n
                                    key.append(codes[b * H * W + q] if q >= 0 else pad)
                            if cfg.get("classKeyed"):
                                key.append(c["classes"][b])
                            mix = 0
                            for j, kid in enumerate(key):
                                mix ^= ((kid + 1) * c["multipliers"][(l * S + s) * J + j]) & M32
                            for k in range(K):
                                h = (l * S + s) * K + k
                                ids.append(c["offsets"][h] + mix % c["primes"][h])
        c["ids"] = ids
    json.dump(cases, open(os.path.join(HERE, "..", "test", "golden", "hash.json"), "w"))
    os.remove(os.path.join(HERE, "..", "test", "golden", "hash-input.json"))


main()
