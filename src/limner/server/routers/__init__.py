"""One router per resource; each holds no logic beyond parsing, authorizing and calling the store."""

from limner.server.routers import (
    annotations,
    assist,
    assets,
    audit,
    auth,
    browser,
    comments,
    exchange,
    jobs,
    labels,
    members,
    meta,
    projects,
    quality,
    review,
    tasks,
    users,
)

ROUTERS = [
    meta.router,
    auth.router,
    users.router,
    projects.router,
    members.router,
    labels.router,
    assets.router,
    tasks.router,
    annotations.router,
    comments.router,
    jobs.router,
    audit.router,
    exchange.router,
    quality.router,
    assist.router,
    review.router,
]

__all__ = ["ROUTERS", "browser"]
