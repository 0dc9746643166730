"""Merge statistics cache files computed elsewhere (e.g. on a GPU machine) into this machine's cache.

    python -m training.merge_statistics out-1.sqlite out-2.sqlite [--into PATH]

Rows already present are kept; the count of rows added is printed per file.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from byline.scoring.model_files import cache_dir
from byline.scoring.statistics_cache import StatisticsCache


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", type=Path, nargs="+")
    parser.add_argument(
        "--into", type=Path, default=None, help="statistics SQLite file (default: the cache's)"
    )
    args = parser.parse_args()
    missing = [str(s) for s in args.sources if not s.is_file()]
    if missing:
        parser.error(f"no such statistics file: {', '.join(missing)}")
    cache = StatisticsCache(args.into or cache_dir() / "statistics.sqlite")
    for source in args.sources:
        try:
            print(f"{source}: {cache.merge_from(source)} rows added", flush=True)
        except sqlite3.DatabaseError as error:
            cache.close()
            parser.error(f"{source}: not a statistics cache ({error}); the files before it are merged")
    cache.close()


if __name__ == "__main__":
    main()
