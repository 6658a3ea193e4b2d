"""Peer for bench/clv/run.mjs: fits one model with lifetimes (CamDavidsonPilon/lifetimes) on a summary
CSV, as a user would (read with pandas, fit on all rows, no weights), and prints one JSON line.
Usage: python3 peer_lifetimes.py <csv> bgnbd|gamma-gamma|pareto-nbd
"""
import json
import sys
import time

t0 = time.perf_counter()
import pandas as pd  # noqa: E402
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter  # noqa: E402

path, model = sys.argv[1], sys.argv[2]
df = pd.read_csv(path)
t_read = time.perf_counter()
if model == "bgnbd":
    f = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    params = {k: float(f.params_[k]) for k in ["r", "alpha", "a", "b"]}
    customers = len(df)
elif model == "pareto-nbd":
    f = ParetoNBDFitter().fit(df["frequency"], df["recency"], df["T"])
    params = {k: float(f.params_[k]) for k in ["r", "alpha", "s", "beta"]}
    customers = len(df)
elif model == "gamma-gamma":
    rep = df[df["frequency"] > 0]
    f = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    params = {k: float(f.params_[k]) for k in ["p", "q", "v"]}
    customers = len(rep)
else:
    raise SystemExit("unknown model " + model)
t_fit = time.perf_counter()
print(json.dumps({
    "model": model,
    "params": params,
    "logLikelihood": None,
    "customers": customers,
    "importAndReadSeconds": round(t_read - t0, 3),
    "fitSeconds": round(t_fit - t_read, 3),
}))
