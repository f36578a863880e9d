#!/usr/bin/env python3
"""Checks that a dataset file stored by atf-data reads correctly in pandas
(pyarrow) and, when installed, polars.

usage: read_with_pandas.py FILE.parquet ROWS FIRST_CLOSE

FIRST_CLOSE is compared exactly as a decimal (e.g. 1.051900). Exits non-zero
with a message on any mismatch.
"""
import sys
from decimal import Decimal

import pandas as pd


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, rows, first_close = sys.argv[1], int(sys.argv[2]), Decimal(sys.argv[3])

    df = pd.read_parquet(path)
    assert list(df.columns) == ["timestamp", "open", "high", "low", "close", "volume"], list(df.columns)
    assert len(df) == rows, f"pandas: {len(df)} rows, expected {rows}"
    assert Decimal(df["close"].iloc[0]) == first_close, f"pandas: first close {df['close'].iloc[0]}, expected {first_close}"
    assert str(df["timestamp"].dtype) == "datetime64[ms, UTC]", df["timestamp"].dtype
    assert df["timestamp"].is_monotonic_increasing

    try:
        import polars as pl
    except ImportError:
        print("polars not installed: checked pandas only")
    else:
        pf = pl.read_parquet(path)
        assert pf.height == rows, f"polars: {pf.height} rows, expected {rows}"
        assert Decimal(str(pf["close"][0])) == first_close, f"polars: first close {pf['close'][0]}"

    print(f"ok: {path}: {rows} rows, first close {first_close}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
