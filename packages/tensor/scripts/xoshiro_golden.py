"""Reference xoshiro128** (straight from the C reference by Blackman & Vigna) for the Rng known-answer test.

Run: /usr/bin/python3 packages/tensor/scripts/xoshiro_golden.py > packages/tensor/test/golden/xoshiro128ss.json
"""
import json

M = 0xFFFFFFFF


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


def xoshiro128ss(s, n):
    s = list(s)
    out = []
    for _ in range(n):
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        out.append(result)
    return out, s


cases = []
for state in ([1, 2, 3, 4], [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [M, 0, M, 1]):
    outs, final = xoshiro128ss(state, 16)
    cases.append({"state": state, "outputs": outs, "final": final})
print(json.dumps({"generator": "xoshiro128**", "cases": cases}, indent=1))
