"""numpy/scipy side of bench/fid.ts: pytorch-fid's statistics + calculate_frechet_distance on the
same float32 features. argv: path n d. Prints one JSON line."""
import json
import sys
import time

import numpy as np
from scipy import linalg

path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(path, dtype='<f4').reshape(2, n, d)
t0 = time.perf_counter()
stats = []
for a in x:
    a = a.astype(np.float64)
    stats.append((a.mean(axis=0), np.cov(a, rowvar=False)))
t1 = time.perf_counter()
(mu1, s1), (mu2, s2) = stats
diff = mu1 - mu2
covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
if not np.isfinite(covmean).all():
    off = np.eye(d) * 1e-6
    covmean = linalg.sqrtm((s1 + off).dot(s2 + off))
covmean = covmean.real
fid = float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
t2 = time.perf_counter()
print(json.dumps({'fid': fid, 'statsSeconds': t1 - t0, 'fidSeconds': t2 - t1, 'seconds': t2 - t0}))
