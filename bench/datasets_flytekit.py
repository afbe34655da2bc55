"""Side 1 of bench/datasets.sh: the benchmark's work as a flytekit task with pandas.

Reads the dataset's `name` and `value` columns (flytekit's pandas decoder projects them), keeps
values at least the threshold, counts and sums them per name, returns the result as a DataFrame
(flytekit's pandas encoder writes it as a dataset).
"""

import pandas as pd
from flytekit import kwtypes, task
from typing_extensions import Annotated


@task
def summarize(
    data: Annotated[pd.DataFrame, kwtypes(name=str, value=float)], threshold: float
) -> Annotated[pd.DataFrame, kwtypes(name=str, count=int, total=float)]:
    kept = data[data["value"] >= threshold]
    g = kept.groupby("name", sort=True)["value"]
    return pd.DataFrame({"name": g.size().index, "count": g.size().values, "total": g.sum().values})
