#!/usr/bin/env python3
"""Articles per campaign per day from a mediawatch Parquet export, with pandas (pyarrow engine).

    pip install pandas pyarrow
    scripts/parquet_pandas.py EXPORT_DIR        # CSV on stdout: day,campaign,articles

Reads the files manifest.json lists, only the columns it needs, counts each article once (its current
version: is_current) on the UTC day of dated_at, once per campaign it is tagged with.
"""
import json
import os
import sys

import pandas as pd


def listed_files(export_dir):
    with open(os.path.join(export_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return [os.path.join(export_dir, f["path"]) for run in manifest["runs"] for f in run["files"]]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: parquet_pandas.py EXPORT_DIR")
    files = listed_files(sys.argv[1])
    print("day,campaign,articles")
    if not files:
        return
    df = pd.concat(
        (pd.read_parquet(f, columns=["is_current", "dated_at", "campaigns"]) for f in files),
        ignore_index=True,
    )
    df = df[df["is_current"]]
    df = df.assign(day=df["dated_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d"))
    df = df[["day", "campaigns"]].explode("campaigns").dropna(subset=["campaigns"])
    df["campaign"] = df["campaigns"].map(lambda c: c["id"])
    counts = df.groupby(["day", "campaign"]).size().reset_index(name="articles")
    for row in counts.sort_values(["day", "campaign"]).itertuples(index=False):
        print(f"{row.day},{row.campaign},{row.articles}")


if __name__ == "__main__":
    main()
