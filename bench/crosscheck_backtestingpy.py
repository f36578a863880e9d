"""Cross-check fixture generator: backtesting.py 0.6.6 SMA-cross runs on real data.

Writes crates/cli/tests/fixtures/backtestingpy_sma.json (a JSON array of cases) that the
Rust tests compare `atf` against, and prints a diagnostics report (SMA near-ties, exact-vs-float
crossover disagreements, sizing margins, and an independent exact fixed-point re-simulation).

How to run (from the repository root):

    /root/.cache/atf-peers/venv/bin/python bench/crosscheck_backtestingpy.py \
        [--data-dir /work/shared/data] [--out crates/cli/tests/fixtures/backtestingpy_sma.json]

Requires backtesting==0.6.6, pandas, numpy (the peers venv). Deterministic; runs in seconds.

Cases
-----
1. spy-1d            spy_1d_lean_1998_2021.csv.gz, SMA(10,20) long only.
2. spy-1m-at-1h      spy_1m_ninjatrader_2011-01_2011-03.csv.gz resampled to 1h: UTC buckets
                     labelled by bucket start (resample('1h', label='left', closed='left')),
                     O=first H=max L=min C=last V=sum, EMPTY BUCKETS DROPPED. SMA(10,20) long only.
3. spy-1d-long-short spy daily SMA(10,20) always-in-market reversal: cross up ->
                     position.close(); buy(); cross down -> position.close(); sell().
4. goog-1d           backtesting.py's GOOG file, SMA(10,20) long only; asserted to give
                     Equity Final 69,336.74 and 46 trades (published in /work/shared/peers/README.md).
All: cash 10,000, commission=0.001 (0.1 % of notional per side), every other Backtest() default
(spread 0, margin 1, trade_on_close False, hedging False, exclusive_orders False,
finalize_trades False). Prices are loaded as floats from the CSV. SMA = pandas rolling mean of Close.
Long-only strategy == peers' SmaCrossLong: if crossover(fast, slow): buy() if flat;
elif crossover(slow, fast): position.close() if in a position.

Fixture fields: name, dataFile, timeframe, strategy="sma-cross", params{fast,slow,long_only},
cash, commissionPct (0.1 = 0.1 %), finalEquity (stats['Equity Final [$]']), tradeCount
(stats['# Trades'] = CLOSED trades only), openAtEnd (a trade is still open after the last bar),
trades = closed trades only: entryTime/exitTime (bar-open ISO-8601 Z of the FILL bar),
entryPrice/exitPrice (fill prices = that bar's Open), size (signed units), pnl (net of both
commissions), commission (entry + exit commission).

Semantics of backtesting.py 0.6.6 that an engine must reproduce
---------------------------------------------------------------
(line numbers: backtesting/backtesting.py unless noted; lib.py = backtesting/lib.py)

(a) All-in sizing. buy()/sell() default size is _FULL_EQUITY = 1 - sys.float_info.epsilon
    (L215-217), a "relative" size. At the fill bar, _process_orders (L875-1053, sizing L957-972):
        adjusted_price = price * (1 + copysign(spread, size))          # spread=0 -> Open (L838-843)
        adj_plus_comm  = adjusted_price + commission(size, price)/|size|
                       = Open + (|size|*Open*0.001)/|size|  (~ Open*1.001, float)
        units = int((margin_available * leverage * (1-eps)) // adj_plus_comm)   (L968-970)
    margin_available = max(0, equity - sum(trade.value/leverage)) (L850-853); when flat it is
    equity = cash (L846-847). leverage = 1/margin = 1. units == 0 -> order cancelled with a
    warning. So: units = floor(cash*(1-eps) / (Open*(1+c))) -- the entry commission is budgeted.
    The (1-eps) only matters when cash/(Open*1.001) is (float-)exactly an integer.
    Commission: _commission_func = fixed + |size|*price*relative (L759-760). Entry commission is
    charged on the adjusted (=Open) price and subtracted from cash at open (L1097-1103); exit
    commission on the exit price at close (L1088-1090): cash += size*(exit-entry) - exit_comm.
    Trade 'Commission' = entry + exit commission, 'PnL' = size*(exit-entry) - both (L657-663,
    L1091-1095). equity = cash + sum(size*(Close - entry)) for open trades (L823-826, L846-847).
    Note the order-size check afterwards (L1006-1014) uses the same margin_available, so the
    all-in order never gets cancelled for margin.

(b) End of data. The main loop (L1339-1354) for bar i runs broker.next() (fills orders placed on
    bar i-1 at bar i's Open (L917-919), then records equity at bar i's Close, L855-864) and then
    strategy.next(). An order placed in next() on the LAST bar is never filled. With
    finalize_trades=False (default; L1206, L1356-1370) open trades are NOT closed: they are
    marked to market at the last Close in 'Equity Final [$]' (= equity[-1], _stats.py L110;
    entry commission already deducted, no exit commission) and are NOT counted in '# Trades'
    (= len(closed trades), _stats.py L171, built from broker.closed_trades L1376-1377).

(c) Warm-up. start = 1 + _indicator_warmup_nbars(strategy) (L1333); _indicator_warmup_nbars
    (_util.py L87-93) = max over indicators of the index of the first non-NaN value = slow-1 for
    SMA(slow). So broker.next()/strategy.next() are first called at bar index `slow` (0-based),
    where sma_slow[-2] (index slow-1) is the first valid slow value. No crossover can be lost:
    at bar slow-1 the previous slow SMA is NaN and crossover() would be False anyway. The first
    possible signal is at bar index `slow` (needs diff[slow-1] < 0 and diff[slow] > 0); the
    first possible fill is at bar slow+1. Equity before `start` is back-filled (L1375), i.e.
    = cash. A state "fast > slow at the first valid bar" is NOT a signal.

(d) crossover(a, b) (lib.py L96-115) is `a[-2] < b[-2] and a[-1] > b[-1]`, both STRICT. An
    exact tie on either bar is not a cross: the sequence (<, ==, >) produces NO signal at all
    (neither at the tie bar nor the bar after), and (<, ==, <) none either. An engine that
    remembers "last non-equal state" would differ. NaN compares False.

(e) Long/short reversal at one bar (case 3). position.close() -> Trade.close() inserts a
    close order at the FRONT of broker.orders (L370-375, L573-579); buy()/sell() appends the
    new market order (L811). At the next bar's Open, _process_orders handles the close order
    first (parent_trade branch L931-955 -> _reduce_trade/_close_trade L1078-1095, cash += pl -
    exit comm), clearing the trade caches (L828-831). Then the new order is sized with margin_available
    computed NOW, with no open trades, i.e. = cash after the close (realized PnL and the exit
    commission included): units = floor(cash*(1-eps) / (Open*1.001)). Both fills at the same
    Open, entry/exit time = that bar. When flat (first signal), position.close() is a no-op.
    (Without position.close() the sell order would instead FIFO-close the long inside the same
    order (L983-1004) but would be sized from equity BEFORE the close, with margin_available
    reduced by the open long's value -- not what case 3 does.)

(f) Things a fixed-point integer engine could disagree on (this script measures them):
    - SMA comparisons: pandas rolling mean uses an online add/subtract (Kahan-compensated)
      sum, so float SMA values are not exactly sum/n; when fast and slow SMAs are (nearly) tied
      the float comparison can differ from an exact sum_fast*slow vs sum_slow*fast comparison.
      The script reports, per case, bars with |f-s| < 1e-9*|s| (near ties), exact ties, and
      bars where the float crossover signal differs from the exact one.
    - Sizing: float floor(cash*(1-eps) / (Open + Open*0.001)) vs exact floor; differs only if
      the quotient is within float error of an integer. Reported: min distance to an integer.
    - Commission rounding to 1e-4 changes cash by < 1e-4 per fill; could only shift sizing at
      such a boundary. An exact re-simulation (Fractions, commission rounded half-even to
      1e-4, floor sizing) is run and compared trade by trade; its final-equity delta is shown.
    - Prices: CSV decimal strings -> float64. Fixed-point engines parse them exactly; float
      Open*size etc. carry ~1e-16 relative error, so compare pnl/commission/equity with a small
      tolerance (e.g. 1e-6 relative or 1e-2 absolute), sizes/times/trade counts exactly.
    - Equity Final is marked to market at the last bar's Close with an open trade (b).

Results as generated (backtesting.py 0.6.6)
-------------------------------------------
  case               bars  finalEquity      trades openAtEnd  near-ties exact-ties  min sizing gap
  spy-1d             5849  12434.17014      150    yes (31 @ 394.56 from 2021-03-17)   0  0  0.0114
  spy-1m-at-1h        686   9727.33636       15    no                                   0  0  0.00022
  spy-1d-long-short  5849   3258.62295      301    yes (long 8 @ 394.56 from 2021-03-17) 0  0  0.00046
  goog-1d            2148  69336.74099       46    yes (86 @ 702.24 from 2012-12-03)    0  0  0.0063
In all four cases the exact (Fraction) SMA comparison agrees with pandas' float comparison on
every bar, and the exact fixed-point re-simulation reproduces every trade's times and sizes; its
final equity differs by < 4e-4 (commission rounding to 1e-4 only).
"""
import argparse
import json
import math
import os
import sys
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import backtesting
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "crates", "cli", "tests", "fixtures", "backtestingpy_sma.json")
DEFAULT_DATA = "/work/shared/data"
CASH = 10_000
COMM = 0.001
NEAR_TIE_REL = 1e-9


def SMA(values, n):
    return pd.Series(values).rolling(n).mean()


class SmaCrossLong(Strategy):
    """Exactly the peers' SmaCrossLong (bench_backtesting.py)."""
    fast = 10
    slow = 30

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        if crossover(self.sma1, self.sma2):
            if not self.position:
                self.buy()
        elif crossover(self.sma2, self.sma1):
            if self.position:
                self.position.close()


class SmaCrossLongShort(Strategy):
    """backtesting.py test-suite SmaCross: close + reverse on every cross."""
    fast = 10
    slow = 30

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


# ---------------------------------------------------------------- data loading

def load(data_dir, name):
    """Return (float OHLCV frame for backtesting.py, exact Fraction OHLC frame)."""
    raw = pd.read_csv(os.path.join(data_dir, name), dtype=str)
    idx = pd.DatetimeIndex(pd.to_datetime(raw["timestamp"], utc=True)).tz_convert(None)
    f = pd.DataFrame({"Open": raw["open"].astype(float).values, "High": raw["high"].astype(float).values,
                      "Low": raw["low"].astype(float).values, "Close": raw["close"].astype(float).values,
                      "Volume": raw["volume"].astype(float).values}, index=idx)
    x = pd.DataFrame({c.capitalize(): [Fraction(Decimal(v)) for v in raw[c]]
                      for c in ("open", "high", "low", "close")}, index=idx)
    assert f.index.is_monotonic_increasing and f.index.is_unique
    return f, x


def resample_1h(f, x):
    """UTC 1h buckets labelled by start, empty buckets dropped (as atf does)."""
    rf = f.resample("1h", label="left", closed="left").agg(
        {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"})
    rf = rf[rf["Open"].notna()]
    key = x.index.floor("1h")
    g = x.groupby(key)
    rx = pd.DataFrame({"Open": g["Open"].first(), "High": g["High"].max(),
                       "Low": g["Low"].min(), "Close": g["Close"].last()})
    assert list(rx.index) == list(rf.index)
    for c in ("Open", "High", "Low", "Close"):
        assert all(float(a) == b for a, b in zip(rx[c], rf[c])), c
    return rf, rx


def iso(ts):
    return pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- diagnostics

def sma_diagnostics(closes_x, fast, slow, start, float_s1, float_s2):
    """Compare float SMA crossovers with exact integer-sum crossovers."""
    n = len(closes_x)
    cs = [Fraction(0)]
    for c in closes_x:
        cs.append(cs[-1] + c)
    # sign of fast_mean - slow_mean via exact sums: sum_f*slow - sum_s*fast
    sign = [None] * n
    for i in range(slow - 1, n):
        d = (cs[i + 1] - cs[i + 1 - fast]) * slow - (cs[i + 1] - cs[i + 1 - slow]) * fast
        sign[i] = (d > 0) - (d < 0)
    fs1, fs2 = np.asarray(float_s1, float), np.asarray(float_s2, float)
    near = [i for i in range(slow - 1, n)
            if abs(fs1[i] - fs2[i]) < NEAR_TIE_REL * abs(fs2[i])]
    exact_ties = [i for i in range(slow - 1, n) if sign[i] == 0]
    fsign = [None if np.isnan(fs2[i]) else int(fs1[i] > fs2[i]) - int(fs1[i] < fs2[i]) for i in range(n)]
    sign_mismatch = [i for i in range(slow - 1, n) if fsign[i] != sign[i]]

    def signals(sg):
        out = {}
        for i in range(max(start, 1), n):
            if sg[i - 1] is None:
                continue
            if sg[i - 1] < 0 and sg[i] > 0:
                out[i] = +1
            elif sg[i - 1] > 0 and sg[i] < 0:
                out[i] = -1
        return out
    ex, fl = signals(sign), signals(fsign)
    sig_mismatch = sorted(i for i in set(ex) | set(fl) if ex.get(i) != fl.get(i))
    return dict(near_ties=near, exact_ties=exact_ties, sign_mismatch=sign_mismatch,
                signal_mismatch=sig_mismatch, exact_signals=ex)


def _round4(v):
    """Round a Fraction to 1e-4, half-to-even, exactly."""
    scaled = v * 10_000
    q, r = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * r
    if twice > scaled.denominator or (twice == scaled.denominator and q % 2 == 1):
        q += 1
    return Fraction(q, 10_000)


def exact_sim(x, signals, long_only, cash=CASH, comm=Fraction(1, 1000)):
    """Fixed-point reference: exact signals, fill at next Open, floor sizing incl. commission,
    commission rounded to 1e-4. Returns (closed trades, final equity, open trade, min sizing gap)."""
    opens, closes, idx = list(x["Open"]), list(x["Close"]), x.index
    cash = Fraction(cash)
    pos = None  # (size, entry_price, entry_i)
    trades, gaps = [], []
    n = len(opens)
    for i in range(1, n):
        s = signals.get(i - 1)
        if s is None:
            continue
        px = opens[i]
        if pos is not None and ((s < 0 and pos[0] > 0) or (s > 0 and pos[0] < 0)):
            size, ep, ei = pos
            c_exit = _round4(abs(size) * px * comm)
            c_entry = _round4(abs(size) * ep * comm)
            cash += size * (px - ep) - c_exit
            trades.append(dict(entry=ei, exit=i, size=size, ep=ep, xp=px,
                               pnl=size * (px - ep) - c_exit - c_entry, comm=c_exit + c_entry))
            pos = None
        if pos is None and (s > 0 or not long_only):
            q = cash / (px * (1 + comm))
            units = math.floor(q)
            gaps.append(float(min(q - units, units + 1 - q)))
            if units > 0:
                cash -= _round4(units * px * comm)
                pos = (units if s > 0 else -units, px, i)
    eq = cash + (pos[0] * (closes[-1] - pos[1]) if pos else 0)
    return trades, eq, pos, (min(gaps) if gaps else None)


# ---------------------------------------------------------------- cases

CASES = [
    dict(name="spy-1d", dataFile="spy_1d_lean_1998_2021.csv.gz", timeframe="1d",
         fast=10, slow=20, long_only=True),
    dict(name="spy-1m-at-1h", dataFile="spy_1m_ninjatrader_2011-01_2011-03.csv.gz", timeframe="1h",
         fast=10, slow=20, long_only=True, resample="1h"),
    dict(name="spy-1d-long-short", dataFile="spy_1d_lean_1998_2021.csv.gz", timeframe="1d",
         fast=10, slow=20, long_only=False),
    dict(name="goog-1d", dataFile="goog_1d_backtestingpy_2004_2013.csv.gz", timeframe="1d",
         fast=10, slow=20, long_only=True, expect=(69_336.74, 46)),
]


def run_case(data_dir, c):
    f, x = load(data_dir, c["dataFile"])
    if c.get("resample"):
        f, x = resample_1h(f, x)
    strat = SmaCrossLong if c["long_only"] else SmaCrossLongShort
    bt = Backtest(f, strat, cash=CASH, commission=COMM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = bt.run(fast=c["fast"], slow=c["slow"])
    s = st["_strategy"]
    tr = st["_trades"]
    final = float(st["Equity Final [$]"])
    ntr = int(st["# Trades"])
    open_trades = list(s._broker.trades)
    if "expect" in c:
        exp_eq, exp_n = c["expect"]
        assert round(final, 2) == exp_eq and ntr == exp_n, (final, ntr)
    trades = [dict(entryTime=iso(r.EntryTime), exitTime=iso(r.ExitTime),
                   entryPrice=float(r.EntryPrice), exitPrice=float(r.ExitPrice),
                   size=int(r.Size), pnl=float(r.PnL), commission=float(r.Commission))
              for r in tr.itertuples()]
    assert len(trades) == ntr
    out = dict(name=c["name"], dataFile=c["dataFile"], timeframe=c["timeframe"],
               strategy="sma-cross",
               params=dict(fast=c["fast"], slow=c["slow"], long_only=c["long_only"]),
               cash=CASH, commissionPct=COMM * 100, finalEquity=final, tradeCount=ntr,
               openAtEnd=bool(open_trades), trades=trades)

    # ---- diagnostics
    start = 1 + c["slow"] - 1
    d = sma_diagnostics(list(x["Close"]), c["fast"], c["slow"], start,
                        np.asarray(s.sma1), np.asarray(s.sma2))
    etr, eeq, epos, gap = exact_sim(x, d["exact_signals"], c["long_only"])
    same_trades = (len(etr) == ntr and all(
        (x.index[t["entry"]], x.index[t["exit"]], t["size"]) ==
        (r.EntryTime, r.ExitTime, int(r.Size)) for t, r in zip(etr, tr.itertuples())))
    same_open = ((epos is None) == (not open_trades)) and (
        epos is None or (epos[0] == open_trades[0].size and x.index[epos[2]] == open_trades[0].entry_time))
    max_pnl_dev = max((abs(float(t["pnl"]) - float(r.PnL)) for t, r in zip(etr, tr.itertuples())),
                      default=0.0)
    diag = dict(bars=len(f), first_bar=iso(f.index[0]), last_bar=iso(f.index[-1]),
                first_next_bar_index=start,
                near_ties=len(d["near_ties"]), near_tie_bars=[iso(f.index[i]) for i in d["near_ties"]],
                exact_ties=len(d["exact_ties"]), exact_tie_bars=[iso(f.index[i]) for i in d["exact_ties"]],
                float_vs_exact_sign_mismatch=len(d["sign_mismatch"]),
                float_vs_exact_signal_mismatch=[iso(f.index[i]) for i in d["signal_mismatch"]],
                open_trade=(dict(entryTime=iso(open_trades[0].entry_time), size=open_trades[0].size,
                                 entryPrice=float(open_trades[0].entry_price)) if open_trades else None),
                exact_sim_same_trades=same_trades, exact_sim_same_open=same_open,
                exact_sim_final_equity=float(eeq), exact_sim_equity_delta=float(eeq) - final,
                exact_sim_max_trade_pnl_delta=max_pnl_dev,
                min_sizing_gap_to_integer=gap)
    return out, diag


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=DEFAULT_DATA)
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    assert backtesting.__version__.startswith("0.6.6"), backtesting.__version__
    cases, diags = [], {}
    for c in CASES:
        out, diag = run_case(a.data_dir, c)
        cases.append(out)
        diags[c["name"]] = diag
        print(f"{out['name']:18s} finalEquity={out['finalEquity']:.6f} tradeCount={out['tradeCount']} "
              f"openAtEnd={out['openAtEnd']}")
        for k, v in diag.items():
            if isinstance(v, list) and len(v) > 10:
                v = v[:10] + ["..."]
            print(f"    {k}: {v}")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as fh:
        json.dump(cases, fh, indent=1)
        fh.write("\n")
    print("wrote", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
