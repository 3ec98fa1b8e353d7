"""SQLAlchemy ORM (1.4 and 2; psycopg2) through pglab proxy: `sqlalchemy_client.py URL SCENARIO`.
Prints nothing."""
import sys

from sqlalchemy import BigInteger, Column, ForeignKey, Text, create_engine, select, text
from sqlalchemy.orm import (Session, declarative_base, joinedload, relationship,
                            selectinload)

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(BigInteger, primary_key=True)
    username = Column(Text)


class Post(Base):
    __tablename__ = "posts"
    id = Column(BigInteger, primary_key=True)
    author_id = Column(BigInteger, ForeignKey("users.id"))
    author = relationship(User)


url, scenario = sys.argv[1], sys.argv[2]
engine = create_engine(url.replace("postgres://", "postgresql://", 1), future=True)
load = {"lazy": [], "selectinload": [selectinload(Post.author)],
        "joinedload": [joinedload(Post.author)]}[scenario]
with Session(engine, future=True) as session:
    session.execute(text(f"select 'pglab:begin:{scenario}'"))
    posts = session.scalars(select(Post).options(*load).order_by(Post.id).limit(8)).all()
    for post in posts:
        post.author.username
    session.execute(text(f"select 'pglab:end:{scenario}'"))
