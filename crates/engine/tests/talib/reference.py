"""TA-Lib reference values for the engine's incremental indicators.

Usage: reference.py DATA.csv.gz OUT_DIR SPEC...

DATA.csv.gz has the header timestamp,open,high,low,close,volume with decimal
strings. Prices are turned into the integers the engine stores: the decimal
text times 10^d exactly, d being the largest number of decimals among the
file's prices (volumes likewise with their own d). TA-Lib gets those
integers as float64, so both sides see identical inputs (volumes keep at
most MAX_VOLUME_DECIMALS decimals, truncated, as tests/talib.rs does).

Each SPEC is NAME[:PARAM...]; the outputs, NaN where undefined, are written
in the order asked as little-endian float64 to OUT_DIR/values.f64, preceded
by the five input columns; OUT_DIR/index.json names them and gives the row
count and the scales. Indicators TA-Lib lacks (Donchian middle, Keltner,
VWAP) are short numpy formulas over TA-Lib's own MAX/MIN, EMA and ATR.
"""

import gzip
import json
import os
import sys

import numpy as np
import talib


def decimals(s):
    i = s.find(".")
    return 0 if i < 0 else len(s) - i - 1


# Some feeds write volumes with float noise (e.g. 289169.9847625); volumes
# keep at most this many decimals, the rest is truncated (on both sides).
MAX_VOLUME_DECIMALS = 4


def to_int(s, scale, truncate=False):
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    whole, _, frac = s.partition(".")
    assert truncate or len(frac) <= scale, s
    v = int(whole or "0") * 10**scale + int((frac + "0" * scale)[:scale] or "0")
    return -v if neg else v


def load(path):
    with gzip.open(path, "rt") as f:
        header = f.readline().strip().split(",")
        assert header[:6] == ["timestamp", "open", "high", "low", "close", "volume"], header
        rows = [line.strip().split(",") for line in f if line.strip()]
    cols = list(zip(*rows))
    prices = cols[1:5]
    dp = max(decimals(s) for col in prices for s in col)
    dv = min(max(decimals(s) for s in cols[5]), MAX_VOLUME_DECIMALS)
    ohlc = [np.array([float(to_int(s, dp)) for s in col]) for col in prices]
    vol = np.array([float(to_int(s, dv, truncate=True)) for s in cols[5]])
    for a in ohlc + [vol]:
        assert np.all(np.abs(a) < 2.0**53), "raw values must be exact in float64"
    return ohlc, vol, dp, dv


def compute(spec, o, h, l, c, v):
    name, *p = spec.split(":")
    i = [int(x) if x.isdigit() else None for x in p]
    if name == "sma":
        return [talib.SMA(c, i[0])]
    if name == "ema":
        return [talib.EMA(c, i[0])]
    if name == "wma":
        return [talib.WMA(c, i[0])]
    if name == "rsi":
        return [talib.RSI(c, i[0])]
    if name == "atr":
        return [talib.ATR(h, l, c, i[0])]
    if name == "stddev":
        return [talib.STDDEV(c, i[0], 1.0)]
    if name == "max":
        return [talib.MAX(c, i[0])]
    if name == "min":
        return [talib.MIN(c, i[0])]
    if name == "macd":
        return list(talib.MACD(c, i[0], i[1], i[2]))
    if name == "bbands":
        k = float(p[1])
        up, mid, lo = talib.BBANDS(c, i[0], k, k, 0)
        return [up, mid, lo]
    if name == "stoch":
        k, d = talib.STOCH(h, l, c, i[0], i[1], 0, i[2], 0)
        return [k, d]
    if name == "adx":
        n = i[0]
        return [talib.ADX(h, l, c, n), talib.PLUS_DI(h, l, c, n), talib.MINUS_DI(h, l, c, n)]
    if name == "donchian":
        up, lo = talib.MAX(h, i[0]), talib.MIN(l, i[0])
        return [up, (up + lo) / 2.0, lo]
    if name == "keltner":
        mid = talib.EMA(c, i[0])
        width = float(p[2]) * talib.ATR(h, l, c, i[1])
        mid = np.where(np.isnan(width), np.nan, mid)
        return [mid + width, mid, mid - width]
    if name == "vwap":
        num = np.cumsum((h + l + c) * v)
        den = np.cumsum(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            return [np.where(den != 0, num / (3.0 * den), np.nan)]
    if name == "rvwap":
        n = i[0]
        out = np.full(len(c), np.nan)
        num = np.convolve((h + l + c) * v, np.ones(n), "valid")
        den = np.convolve(v, np.ones(n), "valid")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[n - 1 :] = np.where(den != 0, num / (3.0 * den), np.nan)
        return [out]
    if name == "obv":
        return [talib.OBV(c, v)]
    raise SystemExit(f"unknown indicator spec {spec!r}")


def main():
    path, out_dir, *specs = sys.argv[1:]
    (o, h, l, c), v, dp, dv = load(path)
    names = ["open", "high", "low", "close", "volume"]
    series = [o, h, l, c, v]
    for spec in specs:
        outs = compute(spec, o, h, l, c, v)
        names += [f"{spec}#{j}" for j in range(len(outs))]
        series += outs
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "values.f64"), "wb") as f:
        for s in series:
            f.write(np.ascontiguousarray(s, dtype="<f8").tobytes())
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(
            {
                "rows": len(c),
                "price_decimals": dp,
                "volume_decimals": dv,
                "talib": talib.__version__,
                "ta_lib_c": talib.__ta_version__.decode(),
                "series": names,
            },
            f,
        )


if __name__ == "__main__":
    main()
