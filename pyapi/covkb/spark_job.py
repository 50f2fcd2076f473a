"""The script spark-submit runs: ``spark-submit [options] covkb/spark_job.py IN OUT
[--engine E] [--policy P] [--citations] [--keep C]``; the master and resources come from
spark-submit, and the records are ``covkb batch``'s (see covkb.spark)."""

import sys

from covkb.spark import main

if __name__ == "__main__":
    sys.exit(main())
