"""What every client script shares: the N+1 statements and the markers around a scenario."""
from contextlib import contextmanager

# `%s` stands for the driver's placeholder.
POSTS = ("select id, author_id from posts where organization_id = %s "
         "and deleted_at is null order by id limit 5")
AUTHOR = "select username from users where id = %s"


@contextmanager
def marked(execute, scenario):
    """The round trips of a scenario are those between its two markers."""
    execute(f"select 'pglab:begin:{scenario}'")
    yield
    execute(f"select 'pglab:end:{scenario}'")
