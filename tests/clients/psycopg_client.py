"""psycopg 3 through pglab proxy: `psycopg_client.py URL SCENARIO`. Prints nothing."""
import sys

import psycopg

from common import AUTHOR, POSTS, marked

url, scenario = sys.argv[1], sys.argv[2]
with psycopg.connect(url, autocommit=True) as conn:
    with marked(conn.execute, scenario):
        if scenario == "lazy":
            for _, author in conn.execute(POSTS % "%s", (1,)).fetchall():
                conn.execute(AUTHOR % "%s", (author,)).fetchall()
        elif scenario == "pipeline":
            with conn.pipeline():
                for author in range(1, 11):
                    conn.execute(AUTHOR % "%s", (author,))
        elif scenario == "executemany":
            conn.cursor().executemany(AUTHOR % "%s", [(a,) for a in range(1, 11)])
