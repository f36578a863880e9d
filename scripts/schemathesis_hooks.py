"""schemathesis hooks for AlgoTradeForge's API (scripts/schemathesis.sh).

scripts/schemathesis.toml lets a few operations refuse schema-valid data
with 422, since part of their validation depends on the server's data or
ties fields together. The check below keeps that allowance narrow: such a
422 must name (in the problem's `field`) one of the fields listed here for
its operation, each for a reason the document cannot state as a schema.
"""

import json

import schemathesis

# Run submissions: names the server must know, periods against the dataset,
# parameters against the strategy, amounts against the instrument's decimals
# (cash, commissionFixed) or at most 7 decimals (commissionPct, sizePct;
# "multipleOf" cannot say it for binary floats), grids against
# --max-combinations and axes against params.
_RUN = (
    "strategy", "dataset", "timeframe", "from", "to", "params",
    "cash", "commissionPct", "commissionFixed", "sizePct",
)

DATA_DEPENDENT = {
    "POST /api/backtests": _RUN,
    # a search's fields go together (`budget` and `seed` need a `method`
    # other than grid, which needs a `budget`), and a budget is bounded by
    # --max-combinations
    "POST /api/optimizations": _RUN + ("axes", "constraints", "method", "budget", "seed"),
    # the windows must fit the period (and be sized one way, in whole bars)
    "POST /api/walkforwards": _RUN
    + ("axes", "constraints", "inSample", "outOfSample", "folds", "oosFraction")
    # a walk-forward's folds run grids for now: a search (`method` other
    # than grid, with its `budget` and `seed`) is refused
    + ("method", "budget", "seed"),
    # a timeframe must be a multiple of the dataset's; `to` after `from`
    "GET /api/datasets/{id}/bars": ("from", "to", "timeframe"),
    # `params.<name>` must be one of the optimization's parameters
    "GET /api/optimizations/{id}/trials": ("sort",),
    # the file must be market data; priceDecimals at least the file's
    "POST /api/datasets": ("file", "priceDecimals"),
}


def _covers(field: str, allowed: tuple[str, ...]) -> bool:
    return any(field == a or field.startswith((a + ".", a + "[")) for a in allowed)


@schemathesis.check
def refusals_depend_on_data(ctx, response, case):
    """A schema-valid request refused with 422 names a field whose validity
    depends on the server's data (or on another field)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    allowed = DATA_DEPENDENT.get(case.operation.label)
    if allowed is None:
        return None  # positive_data_acceptance already fails it
    try:
        problem = json.loads(response.content)
    except ValueError:
        problem = {}
    field = problem.get("field") or ""
    if case.operation.label == "GET /api/optimizations/{id}/trials":
        sort = (case.query or {}).get("sort") or ""
        if field == "sort" and not str(sort).startswith("params."):
            field = ""  # any other sort the schema allows must be accepted
    if not _covers(field, allowed):
        raise AssertionError(
            f"Schema-valid data refused for `{field or '?'}`, which the document constrains: "
            f"{problem.get('detail', response.text[:300])}"
        )
    return None
