"""Golden FID values for packages/metrics, computed with numpy + scipy.linalg.sqrtm (pytorch-fid's
formula) and, as a cross-check, with an eigh-based route. Run from the package directory:

    /usr/bin/python3 scripts/make_golden.py

Writes test/golden/fid.json (cases, expected values) and test/golden/fid.bin (float32 little-endian
inputs). Each Gaussian is given either as a low-rank factor (cov = A Aᵀ / m + diag(d)) or as raw
features (mean + np.cov), so that d = 2048 fits in a few MB; TypeScript rebuilds the covariance from
the same float32 numbers in float64.
"""
import json
import os

import numpy as np
from scipy import linalg

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'golden')
os.makedirs(OUT, exist_ok=True)

blob = []
offset = 0


def put(a):
    global offset
    a = np.ascontiguousarray(a, dtype='<f4')
    blob.append(a.tobytes())
    o = offset
    offset += a.size
    return o


def fid_sqrtm(mu1, s1, mu2, s2, eps=1e-6):
    # pytorch-fid calculate_frechet_distance
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    retry = False
    if not np.isfinite(covmean).all():
        retry = True
        offset_ = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset_).dot(s2 + offset_))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)), retry


def fid_eigh(mu1, s1, mu2, s2):
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r @ s2 @ r
    lam = np.linalg.eigvalsh((m + m.T) / 2)
    tr = np.sqrt(np.clip(lam, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr)


def factor_set(rng, d, m, diag, shift):
    a = rng.standard_normal((d, m)).astype(np.float32) * np.float32(0.5)
    mean = (rng.standard_normal(d) * 0.3 + shift).astype(np.float32)
    dg = (rng.uniform(0.01, 0.2, d).astype(np.float32) if diag else np.zeros(d, np.float32))
    a64 = a.astype(np.float64)
    cov = a64 @ a64.T / m + np.diag(dg.astype(np.float64))
    spec = {'kind': 'factor', 'mean': put(mean), 'factor': put(a), 'rows': d, 'cols': m, 'diag': put(dg)}
    return spec, mean.astype(np.float64), cov


def feature_set(rng, d, n, shift):
    x = (rng.standard_normal((n, d)) * rng.uniform(0.5, 1.5, d) + shift).astype(np.float32)
    x64 = x.astype(np.float64)
    spec = {'kind': 'features', 'features': put(x), 'rows': n, 'cols': d}
    return spec, x64.mean(0), np.cov(x64, rowvar=False)


cases = []


def case(name, d, a, b):
    (sa, m1, c1), (sb, m2, c2) = a, b
    fs, retry = fid_sqrtm(m1, c1, m2, c2)
    fe = fid_eigh(m1, c1, m2, c2)
    entry = {'name': name, 'dim': d, 'sets': [sa, sb], 'fid_sqrtm': fs, 'fid_eigh': fe, 'sqrtm_eps_retry': retry,
             'trace_sum': float(np.trace(c1) + np.trace(c2))}
    if d <= 256:
        entry['eigvalsh_cov1'] = np.linalg.eigvalsh(c1).tolist()
    print(f'{name:28s} d={d:5d} sqrtm={fs:.12g} eigh={fe:.12g} rel={abs(fs - fe) / max(abs(fe), 1e-300):.2e}'
          f'{" (eps retry)" if retry else ""}')
    cases.append(entry)


rng = np.random.default_rng(20261204)
case('d2-full', 2, factor_set(rng, 2, 4, True, 0.0), factor_set(rng, 2, 4, True, 1.0))
case('d8-full', 8, factor_set(rng, 8, 16, True, 0.0), factor_set(rng, 8, 16, True, 0.5))
case('d64-rank10-both', 64, factor_set(rng, 64, 10, False, 0.0), factor_set(rng, 64, 10, False, 0.2))
case('d64-rank5-vs-full', 64, factor_set(rng, 64, 5, False, 0.0), factor_set(rng, 64, 80, True, 0.1))
case('d128-features', 128, feature_set(rng, 128, 500, 0.0), feature_set(rng, 128, 400, 0.05))
case('d256-full', 256, factor_set(rng, 256, 300, True, 0.0), factor_set(rng, 256, 300, True, 0.02))
same = factor_set(rng, 256, 40, True, 0.0)
case('d256-identical', 256, same, same)
case('d1024-full', 1024, factor_set(rng, 1024, 128, True, 0.0), factor_set(rng, 1024, 128, True, 0.05))
case('d2048-full', 2048, factor_set(rng, 2048, 64, True, 0.0), factor_set(rng, 2048, 64, True, 0.01))
case('d2048-rank96', 2048, factor_set(rng, 2048, 96, False, 0.0), factor_set(rng, 2048, 96, False, 0.01))

with open(os.path.join(OUT, 'fid.bin'), 'wb') as f:
    for b in blob:
        f.write(b)
with open(os.path.join(OUT, 'fid.json'), 'w') as f:
    json.dump({'generator': 'scripts/make_golden.py', 'numpy': np.__version__,
               'note': 'offsets count float32 values in fid.bin', 'cases': cases}, f, indent=1)
print('float32 values:', offset, 'bytes:', offset * 4)
