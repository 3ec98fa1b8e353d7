// node-postgres through pglab proxy: `node node_pg_client.js URL SCENARIO`. Prints nothing.
const { Client } = require("pg");

const POSTS = "select id, author_id from posts where organization_id = $1 " +
  "and deleted_at is null order by id limit 5";
const AUTHOR = "select username from users where id = $1";

async function main(url, scenario) {
  const client = new Client({ connectionString: url });
  await client.connect();
  await client.query(`select 'pglab:begin:${scenario}'`);
  if (scenario === "lazy") {
    for (const post of (await client.query(POSTS, [1])).rows) {
      await client.query(AUTHOR, [post.author_id]);
    }
  }
  await client.query(`select 'pglab:end:${scenario}'`);
  await client.end();
}

main(process.argv[2], process.argv[3]).catch((e) => { console.error(e); process.exit(1); });
