#!/usr/bin/env python3
"""Articles per campaign per day from a mediawatch Parquet export, with PySpark in local mode.

    pip install pyspark          # needs Java 17+ (java on PATH or JAVA_HOME)
    scripts/parquet_pyspark.py EXPORT_DIR       # CSV on stdout: day,campaign,articles

The same computation on a cluster: point spark.read.parquet at the export in object storage. Reads the
files manifest.json lists, counts each article once (its current version: is_current) on the UTC day
of dated_at, once per campaign it is tagged with.
"""
import json
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def listed_files(export_dir):
    with open(os.path.join(export_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return [os.path.join(export_dir, f["path"]) for run in manifest["runs"] for f in run["files"]]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: parquet_pyspark.py EXPORT_DIR")
    files = listed_files(sys.argv[1])
    print("day,campaign,articles")
    if not files:
        return
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("mediawatch-parquet")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        counts = (
            spark.read.parquet(*files)
            .where(F.col("is_current"))
            .select(F.date_format("dated_at", "yyyy-MM-dd").alias("day"), F.explode("campaigns").alias("c"))
            .groupBy("day", F.col("c.id").alias("campaign"))
            .count()
            .orderBy("day", "campaign")
            .collect()
        )
        for row in counts:
            print(f"{row['day']},{row['campaign']},{row['count']}")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
