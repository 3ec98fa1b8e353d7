"""psycopg2 through pglab proxy: `psycopg2_client.py URL SCENARIO`. Prints nothing."""
import sys

import psycopg2

from common import AUTHOR, POSTS, marked

url, scenario = sys.argv[1], sys.argv[2]
conn = psycopg2.connect(url)
conn.autocommit = True
cur = conn.cursor()
with marked(cur.execute, scenario):
    if scenario == "lazy":
        cur.execute(POSTS % "%s", (1,))
        for _, author in cur.fetchall():
            cur.execute(AUTHOR % "%s", (author,))
conn.close()
