#!/usr/bin/env python3
"""Articles per campaign per day from a mediawatch Parquet export, with DuckDB.

    pip install duckdb
    scripts/parquet_duckdb.py EXPORT_DIR        # CSV on stdout: day,campaign,articles

Reads the files manifest.json lists (a run that was stopped leaves files the manifest does not list),
counts each article once (its current version: is_current) on the UTC day of dated_at, the day the
digest files it under, once per campaign it is tagged with.
"""
import json
import os
import sys

import duckdb


def listed_files(export_dir):
    with open(os.path.join(export_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return [os.path.join(export_dir, f["path"]) for run in manifest["runs"] for f in run["files"]]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: parquet_duckdb.py EXPORT_DIR")
    files = listed_files(sys.argv[1])
    print("day,campaign,articles")
    if not files:
        return
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(
        """
        SELECT strftime(CAST(dated_at AS DATE), '%Y-%m-%d') AS day, c.id AS campaign, count(*) AS articles
        FROM (SELECT dated_at, unnest(campaigns) AS c FROM read_parquet(?) WHERE is_current)
        GROUP BY ALL ORDER BY day, campaign
        """,
        [files],
    ).fetchall()
    for day, campaign, n in rows:
        print(f"{day},{campaign},{n}")


if __name__ == "__main__":
    main()
