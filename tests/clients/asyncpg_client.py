"""asyncpg through pglab proxy: `asyncpg_client.py URL SCENARIO`. Prints nothing."""
import asyncio
import sys
from contextlib import asynccontextmanager

import asyncpg

from common import AUTHOR, POSTS


@asynccontextmanager
async def marked(conn, scenario):
    await conn.execute(f"select 'pglab:begin:{scenario}'")
    yield
    await conn.execute(f"select 'pglab:end:{scenario}'")


async def main(url, scenario):
    conn = await asyncpg.connect(url)
    async with marked(conn, scenario):
        if scenario == "lazy":
            for post in await conn.fetch(POSTS % "$1", 1):
                await conn.fetchval(AUTHOR % "$1", post["author_id"])
        elif scenario == "executemany":
            await conn.executemany(AUTHOR % "$1", [(a,) for a in range(1, 11)])
        elif scenario == "prepare":
            await conn.prepare(AUTHOR % "$1")
    await conn.close()


asyncio.run(main(sys.argv[1], sys.argv[2]))
